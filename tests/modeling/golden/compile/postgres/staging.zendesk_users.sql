-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* entity: person */
/* description: Zendesk users of one connection (deleted ones, exported with active = false, dropped), named like every person source; Zendesk keeps one name: its first word is the first name, the rest the last name. */
SELECT
  CAST(id AS TEXT) AS source_id,
  NULLIF(LOWER(TRIM(email)), '') AS email,
  NULLIF(SPLIT_PART(TRIM(name), ' ', 1), '') AS first_name,
  NULLIF(TRIM(SUBSTRING(TRIM(name) FROM LENGTH(SPLIT_PART(TRIM(name), ' ', 1)) + 1)), '') AS last_name,
  NULLIF(TRIM(phone), '') AS phone,
  CASE WHEN NOT organization_id IS NULL THEN 'organizations' END AS company_stream,
  CAST(organization_id AS TEXT) AS company_source_id,
  role,
  NULLIF(TRIM(external_id), '') AS external_id,
  CASE
    WHEN CAST(created_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_at AS TIMESTAMPTZ)
  END AS created_at,
  CASE
    WHEN CAST(updated_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(updated_at AS TIMESTAMPTZ)
  END AS updated_at
FROM raw_zendesk.users
WHERE
  NOT COALESCE(deleted, FALSE)
