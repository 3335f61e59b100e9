/* materialized: view */
/* description: HubSpot tickets of one connection (archived ones dropped), named like the ticket entity's records. */
/* entity: ticket */
/* (its column contract; the requester is the ticket's associated contact) */
SELECT
  id AS source_id,
  NULLIF(TRIM(subject), '') AS subject,
  CASE
    WHEN COALESCE(hs_pipeline, '0') = '0'
    THEN CASE hs_pipeline_stage
      WHEN '1'
      THEN 'new'
      WHEN '2'
      THEN 'waiting on contact'
      WHEN '3'
      THEN 'waiting on us'
      WHEN '4'
      THEN 'closed'
      ELSE hs_pipeline_stage
    END
    ELSE hs_pipeline_stage
  END AS status, /* the default support pipeline's stage ids; another pipeline's stages keep their ids */
  LOWER(NULLIF(TRIM(hs_ticket_priority), '')) AS priority,
  CAST(NULL AS VARCHAR) AS email,
  CASE WHEN NOT NULLIF(associations_contacts, '') IS NULL THEN 'contacts' END AS person_stream,
  NULLIF(SPLIT_PART(associations_contacts, ';', 1), '') AS person_source_id,
  CASE WHEN NOT NULLIF(associations_companies, '') IS NULL THEN 'companies' END AS company_stream,
  NULLIF(SPLIT_PART(associations_companies, ';', 1), '') AS company_source_id,
  COALESCE(
    TRY_CAST(CAST(createdate AS VARCHAR) AS TIMESTAMPTZ),
    TRY_CAST(CAST(created_at AS VARCHAR) AS TIMESTAMPTZ)
  ) AS created_at,
  COALESCE(
    TRY_CAST(CAST(updated_at AS VARCHAR) AS TIMESTAMPTZ),
    TRY_CAST(CAST(hs_lastmodifieddate AS VARCHAR) AS TIMESTAMPTZ)
  ) AS updated_at
FROM raw_hubspot.tickets
WHERE
  NOT COALESCE(archived, FALSE)
