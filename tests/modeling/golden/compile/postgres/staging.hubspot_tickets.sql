-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
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
  CAST(NULL AS TEXT) AS email,
  CASE WHEN NOT NULLIF(associations_contacts, '') IS NULL THEN 'contacts' END AS person_stream,
  NULLIF(SPLIT_PART(associations_contacts, ';', 1), '') AS person_source_id,
  CASE WHEN NOT NULLIF(associations_companies, '') IS NULL THEN 'companies' END AS company_stream,
  NULLIF(SPLIT_PART(associations_companies, ';', 1), '') AS company_source_id,
  COALESCE(
    CASE
      WHEN CAST(createdate AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(createdate AS TIMESTAMPTZ)
    END,
    CASE
      WHEN CAST(created_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(created_at AS TIMESTAMPTZ)
    END
  ) AS created_at,
  COALESCE(
    CASE
      WHEN CAST(updated_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(updated_at AS TIMESTAMPTZ)
    END,
    CASE
      WHEN CAST(hs_lastmodifieddate AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(hs_lastmodifieddate AS TIMESTAMPTZ)
    END
  ) AS updated_at
FROM raw_hubspot.tickets
WHERE
  NOT COALESCE(archived, FALSE)
