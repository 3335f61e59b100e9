/* materialized: view */
/* description: Which record in which system is which company: one row per source record. */
SELECT
  company_id,
  connection,
  stream,
  source_id,
  updated_at AS source_updated_at,
  created_at AS source_created_at,
  name,
  domain,
  domain_is_valid,
  phone,
  phone_is_valid
FROM _hub.company_identity
