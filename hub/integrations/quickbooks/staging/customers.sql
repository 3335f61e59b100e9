-- materialized: view
-- entity: person
-- description: QuickBooks customers of one connection, named like every person source: the email is PrimaryEmailAddr, the phone PrimaryPhone (else Mobile). QuickBooks never deletes a customer, it makes it inactive: inactive ones stay, with active = false.
SELECT
    id AS source_id,
    nullif(trim(email), '') AS email,
    nullif(trim(given_name), '') AS first_name,
    nullif(trim(family_name), '') AS last_name,
    coalesce(nullif(trim(phone), ''), nullif(trim(mobile), '')) AS phone,
    nullif(trim(mobile), '') AS mobile_phone,
    nullif(trim(company_name), '') AS company_name,
    nullif(trim(bill_city), '') AS city,
    nullif(trim(bill_country), '') AS country,
    nullif(trim(display_name), '') AS display_name,
    coalesce(active, true) AS active,
    try_cast(balance AS DECIMAL(18,2)) AS balance,
    upper(nullif(trim(currency), '')) AS currency,
    try_cast(created_time AS TIMESTAMPTZ) AS created_at,
    try_cast(last_updated_time AS TIMESTAMPTZ) AS updated_at
FROM raw_quickbooks.customers
WHERE NOT coalesce(deleted, false)
