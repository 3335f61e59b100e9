-- materialized: view
-- entity: company
-- description: HubSpot companies of one connection, typed and named like every company source.
SELECT
    id AS source_id,
    nullif(trim(name), '') AS name,
    nullif(trim(domain), '') AS domain,
    nullif(trim(phone), '') AS phone,
    nullif(trim(industry), '') AS industry,
    nullif(trim(city), '') AS city,
    nullif(trim(country), '') AS country,
    -- HubSpot sends numbers as text, sometimes with a decimal part.
    CAST(try_cast(numberofemployees AS DOUBLE) AS BIGINT) AS employee_count,
    try_cast(annualrevenue AS DOUBLE) AS annual_revenue,
    coalesce(try_cast(createdate AS TIMESTAMPTZ), try_cast(created_at AS TIMESTAMPTZ)) AS created_at,
    coalesce(try_cast(updated_at AS TIMESTAMPTZ), try_cast(hs_lastmodifieddate AS TIMESTAMPTZ)) AS updated_at
FROM raw_hubspot.companies
WHERE NOT coalesce(archived, false)
