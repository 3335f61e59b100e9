-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* entity: payment */
/* description: QuickBooks payments of one connection (deleted ones dropped). The invoice is the one the payment's first line applies to (Line[].LinkedTxn with TxnType Invoice); a payment spread over several invoices names the first. status is applied, or unapplied while part of it is not applied to any invoice. */
SELECT
  id AS source_id,
  CASE
    WHEN CAST(total_amt AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(total_amt AS DECIMAL(18, 2))
  END AS amount,
  UPPER(COALESCE(NULLIF(TRIM(currency), ''), 'USD')) AS currency,
  CASE
    WHEN COALESCE(
      CASE
        WHEN CAST(unapplied_amt AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
        THEN CAST(unapplied_amt AS DECIMAL(18, 2))
      END,
      0
    ) > 0
    THEN 'unapplied'
    ELSE 'applied'
  END AS status,
  'invoices' AS invoice_stream,
  CASE
    WHEN CAST(lines AS JSONB) #>> '{0,LinkedTxn,0,TxnType}' = 'Invoice'
    THEN CAST(lines AS JSONB) #>> '{0,LinkedTxn,0,TxnId}'
  END AS invoice_source_id,
  'customers' AS person_stream,
  customer_id AS person_source_id,
  CASE
    WHEN CAST(txn_date AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(txn_date AS TIMESTAMPTZ)
  END AS paid_at,
  CASE
    WHEN CAST(created_time AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_time AS TIMESTAMPTZ)
  END AS created_at,
  CASE
    WHEN CAST(last_updated_time AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(last_updated_time AS TIMESTAMPTZ)
  END AS updated_at
FROM raw_quickbooks.payments
WHERE
  NOT COALESCE(deleted, FALSE)
