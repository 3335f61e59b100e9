/* materialized: view */
/* entity: company */
/* description: Zendesk organizations of one connection (deleted ones, exported with deleted_at set, dropped); domain is the first of its domain names. */
SELECT
  CAST(id AS TEXT) AS source_id,
  NULLIF(TRIM(name), '') AS name,
  NULLIF(LOWER(TRIM(domain_names ->> '$[0]')), '') AS domain,
  NULLIF(TRIM(external_id), '') AS external_id,
  NULLIF(TRIM(organization_fields ->> '$.tier'), '') AS tier,
  TRY_CAST(created_at AS TIMESTAMPTZ) AS created_at,
  TRY_CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM raw_zendesk.organizations
WHERE
  NOT COALESCE(deleted, FALSE)
