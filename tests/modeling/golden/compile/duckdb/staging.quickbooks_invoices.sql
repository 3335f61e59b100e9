/* materialized: view */
/* entity: invoice */
/* description: QuickBooks invoices of one connection (deleted ones dropped). number is the DocNumber; order_ref is the order the invoice was made for: a line "order: <ref>" in the PrivateNote if there is one, else the DocNumber (push syncs write the shop's order number there). status is paid (nothing left to pay), partial or open; the customer is person_source_id in the customers stream. */
SELECT
  id AS source_id,
  NULLIF(TRIM(doc_number), '') AS number,
  NULLIF(TRIM(email), '') AS email,
  CASE
    WHEN TRY_CAST(balance AS DECIMAL(18, 2)) = 0
    AND TRY_CAST(total_amt AS DECIMAL(18, 2)) > 0
    THEN 'paid'
    WHEN TRY_CAST(balance AS DECIMAL(18, 2)) < TRY_CAST(total_amt AS DECIMAL(18, 2))
    THEN 'partial'
    ELSE 'open'
  END AS status,
  TRY_CAST(total_amt AS DECIMAL(18, 2)) AS total,
  TRY_CAST(balance AS DECIMAL(18, 2)) AS balance,
  UPPER(COALESCE(NULLIF(TRIM(currency), ''), 'USD')) AS currency,
  TRY_CAST(due_date AS DATE) AS due_date,
  COALESCE(
    NULLIF(REGEXP_EXTRACT(COALESCE(private_note, ''), '(?i)order:\s*(\S+)', 1), ''),
    NULLIF(TRIM(doc_number), '')
  ) AS order_ref,
  'customers' AS person_stream,
  customer_id AS person_source_id,
  TRY_CAST(txn_date AS DATE) AS txn_date,
  TRY_CAST(created_time AS TIMESTAMPTZ) AS created_at,
  TRY_CAST(last_updated_time AS TIMESTAMPTZ) AS updated_at
FROM raw_quickbooks.invoices
WHERE
  NOT COALESCE(deleted, FALSE)
