-- materialized: view
-- entity: company
-- description: Salesforce accounts of one connection (deleted ones dropped), named like every company source.
SELECT
    id AS source_id,
    nullif(trim(name), '') AS name,
    nullif(trim(website), '') AS domain,
    nullif(trim(phone), '') AS phone,
    nullif(trim(industry), '') AS industry,
    nullif(trim(billing_city), '') AS city,
    nullif(trim(billing_country), '') AS country,
    CAST(number_of_employees AS BIGINT) AS employee_count,
    CAST(annual_revenue AS DOUBLE) AS annual_revenue,
    try_cast(created_date AS TIMESTAMPTZ) AS created_at,
    coalesce(try_cast(last_modified_date AS TIMESTAMPTZ), try_cast(system_modstamp AS TIMESTAMPTZ)) AS updated_at
FROM raw_salesforce.account
WHERE NOT coalesce(is_deleted, false)
