-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* entity: company */
/* description: Zendesk organizations of one connection (deleted ones, exported with deleted_at set, dropped); domain is the first of its domain names. */
SELECT
  CAST(id AS TEXT) AS source_id,
  NULLIF(TRIM(name), '') AS name,
  NULLIF(LOWER(TRIM(CAST(domain_names AS JSONB) #>> '{0}')), '') AS domain,
  NULLIF(TRIM(external_id), '') AS external_id,
  NULLIF(TRIM(CAST(organization_fields AS JSONB) #>> '{tier}'), '') AS tier,
  CASE
    WHEN CAST(created_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_at AS TIMESTAMPTZ)
  END AS created_at,
  CASE
    WHEN CAST(updated_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(updated_at AS TIMESTAMPTZ)
  END AS updated_at
FROM raw_zendesk.organizations
WHERE
  NOT COALESCE(deleted, FALSE)
