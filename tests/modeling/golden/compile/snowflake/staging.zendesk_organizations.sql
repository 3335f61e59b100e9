/* materialized: view */
/* entity: company */
/* description: Zendesk organizations of one connection (deleted ones, exported with deleted_at set, dropped); domain is the first of its domain names. */
SELECT
  CAST(id AS VARCHAR) AS source_id,
  NULLIF(TRIM(name), '') AS name,
  NULLIF(LOWER(TRIM(JSON_EXTRACT_PATH_TEXT(TO_CHAR(domain_names), '[0]'))), '') AS domain,
  NULLIF(TRIM(external_id), '') AS external_id,
  NULLIF(TRIM(JSON_EXTRACT_PATH_TEXT(TO_CHAR(organization_fields), 'tier')), '') AS tier,
  TRY_CAST(CAST(created_at AS VARCHAR) AS TIMESTAMPTZ) AS created_at,
  TRY_CAST(CAST(updated_at AS VARCHAR) AS TIMESTAMPTZ) AS updated_at
FROM raw_zendesk.organizations
WHERE
  NOT COALESCE(deleted, FALSE)
