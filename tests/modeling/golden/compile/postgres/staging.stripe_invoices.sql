-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* entity: invoice */
/* description: Stripe invoices of one connection (deleted ones and drafts dropped), named like every invoice source. Amounts come from Stripe's minor units as decimals: divided by 100, by 1 for Stripe's zero-decimal currencies and by 1000 for its three-decimal ones. status is paid, open, void or uncollectible as Stripe says; the customer is person_source_id in the customers stream. Stripe keeps no modification time: updated_at is the latest of the creation and the status changes. */
SELECT
  id AS source_id,
  NULLIF(TRIM(number), '') AS number,
  NULLIF(TRIM(customer_email), '') AS email,
  status,
  CAST(CAST(total AS DOUBLE PRECISION) / divisor AS DECIMAL(18, 2)) AS total,
  CAST(CAST(amount_remaining AS DOUBLE PRECISION) / divisor AS DECIMAL(18, 2)) AS balance,
  UPPER(currency) AS currency,
  CAST(TO_TIMESTAMP(due_date) AS DATE) AS due_date,
  NULLIF(TRIM(CAST(metadata AS JSONB) #>> '{order_id}'), '') AS order_ref,
  'customers' AS person_stream,
  customer AS person_source_id,
  TO_TIMESTAMP(created) AS created_at,
  TO_TIMESTAMP(
    GREATEST(
      created,
      COALESCE(
        CASE
          WHEN CAST(CAST(status_transitions AS JSONB) #>> '{finalized_at}' AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
          THEN CAST(CAST(CAST(status_transitions AS JSONB) #>> '{finalized_at}' AS DECIMAL) AS BIGINT)
        END,
        0
      ),
      COALESCE(
        CASE
          WHEN CAST(CAST(status_transitions AS JSONB) #>> '{paid_at}' AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
          THEN CAST(CAST(CAST(status_transitions AS JSONB) #>> '{paid_at}' AS DECIMAL) AS BIGINT)
        END,
        0
      ),
      COALESCE(
        CASE
          WHEN CAST(CAST(status_transitions AS JSONB) #>> '{voided_at}' AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
          THEN CAST(CAST(CAST(status_transitions AS JSONB) #>> '{voided_at}' AS DECIMAL) AS BIGINT)
        END,
        0
      ),
      COALESCE(
        CASE
          WHEN CAST(CAST(status_transitions AS JSONB) #>> '{marked_uncollectible_at}' AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
          THEN CAST(CAST(CAST(status_transitions AS JSONB) #>> '{marked_uncollectible_at}' AS DECIMAL) AS BIGINT)
        END,
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
