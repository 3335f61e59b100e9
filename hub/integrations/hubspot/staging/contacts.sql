-- materialized: view
-- entity: person
-- description: HubSpot contacts of one connection, typed and named like every person source.
SELECT
    id AS source_id,
    nullif(trim(email), '') AS email,
    nullif(trim(firstname), '') AS first_name,
    nullif(trim(lastname), '') AS last_name,
    nullif(trim(phone), '') AS phone,
    nullif(trim(mobilephone), '') AS mobile_phone,
    nullif(trim(company), '') AS company_name,
    'companies' AS company_stream,
    nullif(trim(associatedcompanyid), '') AS company_source_id,
    nullif(trim(jobtitle), '') AS job_title,
    nullif(trim(city), '') AS city,
    nullif(trim(country), '') AS country,
    nullif(trim(lifecyclestage), '') AS lifecycle_stage,
    try_cast(hubspotscore AS DOUBLE) AS lead_score,
    coalesce(try_cast(createdate AS TIMESTAMPTZ), try_cast(created_at AS TIMESTAMPTZ)) AS created_at,
    coalesce(try_cast(updated_at AS TIMESTAMPTZ), try_cast(lastmodifieddate AS TIMESTAMPTZ)) AS updated_at
FROM raw_hubspot.contacts
WHERE NOT coalesce(archived, false)
