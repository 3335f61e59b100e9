-- materialized: view
-- description: Salesforce opportunities of one connection (deleted ones dropped), named like the deal entity's records.
-- entity: deal
-- (its column contract; the org's currency is not in a single-currency org's records)
SELECT
    id AS source_id,
    nullif(trim(name), '') AS name,
    nullif(trim(stage_name), '') AS stage,
    coalesce(is_closed, false) AS is_closed,
    coalesce(is_won, false) AS is_won,
    try_cast(amount AS DECIMAL(18,2)) AS amount,
    CAST(NULL AS VARCHAR) AS currency,
    try_cast(close_date AS DATE) AS close_date,
    CASE WHEN nullif(trim(contact_id), '') IS NOT NULL THEN 'Contact' END AS person_stream,
    nullif(trim(contact_id), '') AS person_source_id,
    CASE WHEN nullif(trim(account_id), '') IS NOT NULL THEN 'Account' END AS company_stream,
    nullif(trim(account_id), '') AS company_source_id,
    try_cast(created_date AS TIMESTAMPTZ) AS created_at,
    coalesce(try_cast(last_modified_date AS TIMESTAMPTZ), try_cast(system_modstamp AS TIMESTAMPTZ)) AS updated_at
FROM raw_salesforce.opportunity
WHERE NOT coalesce(is_deleted, false)
