-- materialized: view
-- description: Salesforce cases of one connection (deleted ones dropped), named like the ticket entity's records.
-- entity: ticket
-- (its column contract; the requester is the case's contact, else the email it came from)
SELECT
    id AS source_id,
    nullif(trim(subject), '') AS subject,
    nullif(trim(status), '') AS status,
    nullif(trim(priority), '') AS priority,
    nullif(trim(supplied_email), '') AS email,
    CASE WHEN nullif(trim(contact_id), '') IS NOT NULL THEN 'Contact' END AS person_stream,
    nullif(trim(contact_id), '') AS person_source_id,
    CASE WHEN nullif(trim(account_id), '') IS NOT NULL THEN 'Account' END AS company_stream,
    nullif(trim(account_id), '') AS company_source_id,
    try_cast(created_date AS TIMESTAMPTZ) AS created_at,
    coalesce(try_cast(last_modified_date AS TIMESTAMPTZ), try_cast(system_modstamp AS TIMESTAMPTZ)) AS updated_at
FROM raw_salesforce."case"
WHERE NOT coalesce(is_deleted, false)
