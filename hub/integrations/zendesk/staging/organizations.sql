-- materialized: view
-- entity: company
-- description: Zendesk organizations of one connection (deleted ones, exported with deleted_at set, dropped); domain is the first of its domain names.
SELECT
    CAST(id AS VARCHAR) AS source_id,
    nullif(trim(name), '') AS name,
    nullif(lower(trim(json_extract_string(domain_names, '$[0]'))), '') AS domain,
    nullif(trim(external_id), '') AS external_id,
    nullif(trim(json_extract_string(organization_fields, '$.tier')), '') AS tier,
    try_cast(created_at AS TIMESTAMPTZ) AS created_at,
    try_cast(updated_at AS TIMESTAMPTZ) AS updated_at
FROM raw_zendesk.organizations
WHERE NOT coalesce(deleted, false)
