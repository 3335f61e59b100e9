/* materialized: view */
/* entity: invoice */
/* description: QuickBooks invoices of one connection (deleted ones dropped). number is the DocNumber; order_ref is the order the invoice was made for: a line "order: <ref>" in the PrivateNote if there is one, else the DocNumber (push syncs write the shop's order number there). status is paid (nothing left to pay), partial or open; the customer is person_source_id in the customers stream. */
SELECT
  id AS source_id,
  NULLIF(TRIM(doc_number), '') AS "NUMBER",
  NULLIF(TRIM(email), '') AS email,
  CASE
    WHEN TRY_CAST(CAST(balance AS VARCHAR) AS DECIMAL(18, 2)) = 0
    AND TRY_CAST(CAST(total_amt AS VARCHAR) AS DECIMAL(18, 2)) > 0
    THEN 'paid'
    WHEN TRY_CAST(CAST(balance AS VARCHAR) AS DECIMAL(18, 2)) < TRY_CAST(CAST(total_amt AS VARCHAR) AS DECIMAL(18, 2))
    THEN 'partial'
    ELSE 'open'
  END AS status,
  TRY_CAST(CAST(total_amt AS VARCHAR) AS DECIMAL(18, 2)) AS total,
  TRY_CAST(CAST(balance AS VARCHAR) AS DECIMAL(18, 2)) AS balance,
  UPPER(COALESCE(NULLIF(TRIM(currency), ''), 'USD')) AS currency,
  TRY_CAST(CAST(due_date AS VARCHAR) AS DATE) AS due_date,
  COALESCE(
    NULLIF(
      COALESCE(REGEXP_SUBSTR(COALESCE(private_note, ''), 'order:\\s*(\\S+)', 1, 1, 'ie', 1), ''),
      ''
    ),
    NULLIF(TRIM(doc_number), '')
  ) AS order_ref,
  'customers' AS person_stream,
  customer_id AS person_source_id,
  TRY_CAST(CAST(txn_date AS VARCHAR) AS DATE) AS txn_date,
  TRY_CAST(CAST(created_time AS VARCHAR) AS TIMESTAMPTZ) AS created_at,
  TRY_CAST(CAST(last_updated_time AS VARCHAR) AS TIMESTAMPTZ) AS updated_at
FROM raw_quickbooks.invoices
WHERE
  NOT COALESCE(deleted, FALSE)
