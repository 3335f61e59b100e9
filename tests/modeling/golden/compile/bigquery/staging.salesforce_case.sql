/* materialized: view */
/* description: Salesforce cases of one connection (deleted ones dropped), named like the ticket entity's records. */
/* entity: ticket */
/* (its column contract; the requester is the case's contact, else the email it came from) */
SELECT
  id AS source_id,
  NULLIF(TRIM(subject), '') AS subject,
  NULLIF(TRIM(status), '') AS status,
  NULLIF(TRIM(priority), '') AS priority,
  NULLIF(TRIM(supplied_email), '') AS email,
  CASE WHEN NOT NULLIF(TRIM(contact_id), '') IS NULL THEN 'Contact' END AS person_stream,
  NULLIF(TRIM(contact_id), '') AS person_source_id,
  CASE WHEN NOT NULLIF(TRIM(account_id), '') IS NULL THEN 'Account' END AS company_stream,
  NULLIF(TRIM(account_id), '') AS company_source_id,
  SAFE_CAST(created_date AS TIMESTAMP) AS created_at,
  COALESCE(
    SAFE_CAST(last_modified_date AS TIMESTAMP),
    SAFE_CAST(system_modstamp AS TIMESTAMP)
  ) AS updated_at
FROM raw_salesforce.`case`
WHERE
  NOT COALESCE(is_deleted, FALSE)
