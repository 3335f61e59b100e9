-- materialized: view
-- entity: invoice
-- description: QuickBooks invoices of one connection (deleted ones dropped). number is the DocNumber; order_ref is the order the invoice was made for: a line "order: <ref>" in the PrivateNote if there is one, else the DocNumber (push syncs write the shop's order number there). status is paid (nothing left to pay), partial or open; the customer is person_source_id in the customers stream.
SELECT
    id AS source_id,
    nullif(trim(doc_number), '') AS number,
    nullif(trim(email), '') AS email,
    CASE
        WHEN try_cast(balance AS DECIMAL(18,2)) = 0 AND try_cast(total_amt AS DECIMAL(18,2)) > 0 THEN 'paid'
        WHEN try_cast(balance AS DECIMAL(18,2)) < try_cast(total_amt AS DECIMAL(18,2)) THEN 'partial'
        ELSE 'open'
    END AS status,
    try_cast(total_amt AS DECIMAL(18,2)) AS total,
    try_cast(balance AS DECIMAL(18,2)) AS balance,
    upper(coalesce(nullif(trim(currency), ''), 'USD')) AS currency,
    try_cast(due_date AS DATE) AS due_date,
    coalesce(nullif(regexp_extract(coalesce(private_note, ''), '(?i)order:\s*(\S+)', 1), ''),
             nullif(trim(doc_number), '')) AS order_ref,
    'customers' AS person_stream,
    customer_id AS person_source_id,
    try_cast(txn_date AS DATE) AS txn_date,
    try_cast(created_time AS TIMESTAMPTZ) AS created_at,
    try_cast(last_updated_time AS TIMESTAMPTZ) AS updated_at
FROM raw_quickbooks.invoices
WHERE NOT coalesce(deleted, false)
