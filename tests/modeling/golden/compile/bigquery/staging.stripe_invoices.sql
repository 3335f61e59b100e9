/* materialized: view */
/* entity: invoice */
/* description: Stripe invoices of one connection (deleted ones and drafts dropped), named like every invoice source. Amounts come from Stripe's minor units as decimals: divided by 100, by 1 for Stripe's zero-decimal currencies and by 1000 for its three-decimal ones. status is paid, open, void or uncollectible as Stripe says; the customer is person_source_id in the customers stream. Stripe keeps no modification time: updated_at is the latest of the creation and the status changes. */
SELECT
  id AS source_id,
  NULLIF(TRIM(number), '') AS number,
  NULLIF(TRIM(customer_email), '') AS email,
  status,
  CAST(total / divisor AS NUMERIC) AS total,
  CAST(amount_remaining / divisor AS NUMERIC) AS balance,
  UPPER(currency) AS currency,
  CAST(TIMESTAMP_SECONDS(due_date) AS DATE) AS due_date,
  NULLIF(TRIM(JSON_EXTRACT_SCALAR(metadata, '$.order_id')), '') AS order_ref,
  'customers' AS person_stream,
  customer AS person_source_id,
  TIMESTAMP_SECONDS(created) AS created_at,
  TIMESTAMP_SECONDS(
    GREATEST(
      created,
      COALESCE(SAFE_CAST(JSON_EXTRACT_SCALAR(status_transitions, '$.finalized_at') AS INT64), 0),
      COALESCE(SAFE_CAST(JSON_EXTRACT_SCALAR(status_transitions, '$.paid_at') AS INT64), 0),
      COALESCE(SAFE_CAST(JSON_EXTRACT_SCALAR(status_transitions, '$.voided_at') AS INT64), 0),
      COALESCE(
        SAFE_CAST(JSON_EXTRACT_SCALAR(status_transitions, '$.marked_uncollectible_at') AS INT64),
        0
      )
    )
  ) AS updated_at
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
  FROM raw_stripe.invoices
) AS i
WHERE
  NOT COALESCE(deleted, FALSE) AND COALESCE(status, '') <> 'draft'
