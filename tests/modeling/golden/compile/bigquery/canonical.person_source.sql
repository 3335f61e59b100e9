/* materialized: view */
/* description: Which record in which system is which person: the identity map reverse-ETL syncs look records up in. */
SELECT
  person_id,
  connection,
  stream,
  source_id,
  updated_at AS source_updated_at,
  created_at AS source_created_at,
  email,
  email_is_valid,
  phone,
  phone_is_valid,
  first_name,
  last_name
FROM _hub.person_identity
