/* materialized: view */
/* entity: company */
/* description: Zendesk organizations of one connection (deleted ones, exported with deleted_at set, dropped); domain is the first of its domain names. */
SELECT
  CAST(id AS STRING) AS source_id,
  NULLIF(TRIM(name), '') AS name,
  NULLIF(LOWER(TRIM(JSON_EXTRACT_SCALAR(domain_names, '$[0]'))), '') AS domain,
  NULLIF(TRIM(external_id), '') AS external_id,
  NULLIF(TRIM(JSON_EXTRACT_SCALAR(organization_fields, '$.tier')), '') AS tier,
  SAFE_CAST(created_at AS TIMESTAMP) AS created_at,
  SAFE_CAST(updated_at AS TIMESTAMP) AS updated_at
FROM raw_zendesk.organizations
WHERE
  NOT COALESCE(deleted, FALSE)
