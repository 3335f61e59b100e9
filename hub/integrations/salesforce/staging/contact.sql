-- materialized: view
-- entity: person
-- description: Salesforce contacts of one connection (deleted ones dropped), named like every person source.
SELECT
    id AS source_id,
    nullif(trim(email), '') AS email,
    nullif(trim(first_name), '') AS first_name,
    nullif(trim(last_name), '') AS last_name,
    nullif(trim(phone), '') AS phone,
    nullif(trim(mobile_phone), '') AS mobile_phone,
    'Account' AS company_stream,
    nullif(trim(account_id), '') AS company_source_id,
    nullif(trim(title), '') AS job_title,
    nullif(trim(mailing_city), '') AS city,
    nullif(trim(mailing_country), '') AS country,
    nullif(trim(lead_source), '') AS lead_source,
    try_cast(created_date AS TIMESTAMPTZ) AS created_at,
    coalesce(try_cast(last_modified_date AS TIMESTAMPTZ), try_cast(system_modstamp AS TIMESTAMPTZ)) AS updated_at
FROM raw_salesforce.contact
WHERE NOT coalesce(is_deleted, false)
