/* materialized: view */
/* entity: payment */
/* description: Stripe charges that succeeded, of one connection, named like every payment source: the amount captured less what was refunded, as a decimal from Stripe's minor units (divided by 100, by 1 for Stripe's zero-decimal currencies, by 1000 for its three-decimal ones); the invoice it paid (invoice_source_id in the invoices stream) and its customer (person_source_id in the customers stream). status is paid, partially_refunded or refunded. */
SELECT
  id AS source_id,
  CAST((
    COALESCE(amount_captured, amount) - COALESCE(amount_refunded, 0)
  ) / divisor AS DECIMAL(18, 2)) AS amount,
  UPPER(currency) AS currency,
  CASE
    WHEN COALESCE(refunded, FALSE)
    THEN 'refunded'
    WHEN COALESCE(amount_refunded, 0) > 0
    THEN 'partially_refunded'
    ELSE 'paid'
  END AS status,
  'invoices' AS invoice_stream,
  NULLIF(TRIM(invoice), '') AS invoice_source_id,
  'customers' AS person_stream,
  customer AS person_source_id,
  TO_TIMESTAMP_TZ(created) AS paid_at,
  TO_TIMESTAMP_TZ(created) AS created_at,
  TO_TIMESTAMP_TZ(created) AS updated_at
FROM (
  SELECT
    *,
    CASE
      WHEN LOWER(currency) IN (
        'bif',
        'clp',
        'djf',
        'gnf',
        'jpy',
        'kmf',
        'krw',
        'mga',
        'pyg',
        'rwf',
        'ugx',
        'vnd',
        'vuv',
        'xaf',
        'xof',
        'xpf'
      )
      THEN 1.0
      WHEN LOWER(currency) IN ('bhd', 'jod', 'kwd', 'omr', 'tnd')
      THEN 1000.0
      ELSE 100.0
    END AS divisor
  FROM raw_stripe.charges
) AS c
WHERE
  status = 'succeeded'
