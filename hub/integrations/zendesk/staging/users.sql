-- materialized: view
-- entity: person
-- description: Zendesk users of one connection (deleted ones, exported with active = false, dropped), named like every person source; Zendesk keeps one name: its first word is the first name, the rest the last name.
SELECT
    CAST(id AS VARCHAR) AS source_id,
    nullif(lower(trim(email)), '') AS email,
    nullif(split_part(trim(name), ' ', 1), '') AS first_name,
    nullif(trim(substr(trim(name), length(split_part(trim(name), ' ', 1)) + 1)), '') AS last_name,
    nullif(trim(phone), '') AS phone,
    CASE WHEN organization_id IS NOT NULL THEN 'organizations' END AS company_stream,
    CAST(organization_id AS VARCHAR) AS company_source_id,
    role,
    nullif(trim(external_id), '') AS external_id,
    try_cast(created_at AS TIMESTAMPTZ) AS created_at,
    try_cast(updated_at AS TIMESTAMPTZ) AS updated_at
FROM raw_zendesk.users
WHERE NOT coalesce(deleted, false)
