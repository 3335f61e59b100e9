/* materialized: view */
/* entity: payment */
/* description: QuickBooks payments of one connection (deleted ones dropped). The invoice is the one the payment's first line applies to (Line[].LinkedTxn with TxnType Invoice); a payment spread over several invoices names the first. status is applied, or unapplied while part of it is not applied to any invoice. */
SELECT
  id AS source_id,
  TRY_CAST(CAST(total_amt AS VARCHAR) AS DECIMAL(18, 2)) AS amount,
  UPPER(COALESCE(NULLIF(TRIM(currency), ''), 'USD')) AS currency,
  CASE
    WHEN COALESCE(TRY_CAST(CAST(unapplied_amt AS VARCHAR) AS DECIMAL(18, 2)), 0) > 0
    THEN 'unapplied'
    ELSE 'applied'
  END AS status,
  'invoices' AS invoice_stream,
  CASE
    WHEN JSON_EXTRACT_PATH_TEXT(TO_CHAR(lines), '[0].LinkedTxn[0].TxnType') = 'Invoice'
    THEN JSON_EXTRACT_PATH_TEXT(TO_CHAR(lines), '[0].LinkedTxn[0].TxnId')
  END AS invoice_source_id,
  'customers' AS person_stream,
  customer_id AS person_source_id,
  TRY_CAST(CAST(txn_date AS VARCHAR) AS TIMESTAMPTZ) AS paid_at,
  TRY_CAST(CAST(created_time AS VARCHAR) AS TIMESTAMPTZ) AS created_at,
  TRY_CAST(CAST(last_updated_time AS VARCHAR) AS TIMESTAMPTZ) AS updated_at
FROM raw_quickbooks.payments
WHERE
  NOT COALESCE(deleted, FALSE)
