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
  CAST(NULL AS STRING) AS email,
  CASE WHEN NOT NULLIF(associations_contacts, '') IS NULL THEN 'contacts' END AS person_stream,
  NULLIF(
    IF(
      associations_contacts IS NULL,
      NULL,
      COALESCE(SPLIT(associations_contacts, ';')[SAFE_OFFSET(1 - 1)], '')
    ),
    ''
  ) AS person_source_id,
  CASE WHEN NOT NULLIF(associations_companies, '') IS NULL THEN 'companies' END AS company_stream,
  NULLIF(
    IF(
      associations_companies IS NULL,
      NULL,
      COALESCE(SPLIT(associations_companies, ';')[SAFE_OFFSET(1 - 1)], '')
    ),
    ''
  ) AS company_source_id,
  COALESCE(SAFE_CAST(createdate AS TIMESTAMP), SAFE_CAST(created_at AS TIMESTAMP)) AS created_at,
  COALESCE(SAFE_CAST(updated_at AS TIMESTAMP), SAFE_CAST(hs_lastmodifieddate AS TIMESTAMP)) AS updated_at
FROM raw_hubspot.tickets
WHERE
  NOT COALESCE(archived, FALSE)
