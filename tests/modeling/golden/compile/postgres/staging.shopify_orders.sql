-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* entity: order */
/* description: Shopify orders of one connection (deleted ones dropped): the shop-currency totals as DECIMAL(18,2) (Shopify sends amounts as decimal strings), the financial status as Shopify displays it, the buyer as a link to the customers stream. */
SELECT
  id AS source_id,
  NULLIF(TRIM(name), '') AS order_number,
  NULLIF(LOWER(TRIM(COALESCE(email, customer_email))), '') AS email,
  CASE
    WHEN NOT cancelled_at IS NULL
    THEN 'cancelled'
    WHEN NOT closed_at IS NULL
    THEN 'closed'
    ELSE 'open'
  END AS status,
  LOWER(display_financial_status) AS financial_status,
  CASE
    WHEN CAST(total_price AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(total_price AS DECIMAL(18, 2))
  END AS total,
  CASE
    WHEN CAST(subtotal_price AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(subtotal_price AS DECIMAL(18, 2))
  END AS subtotal,
  CASE
    WHEN CAST(total_tax AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(total_tax AS DECIMAL(18, 2))
  END AS tax,
  CASE
    WHEN CAST(total_refunded AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(total_refunded AS DECIMAL(18, 2))
  END AS refunded,
  UPPER(currency_code) AS currency,
  CASE WHEN NOT customer_id IS NULL THEN 'customers' END AS person_stream,
  customer_id AS person_source_id,
  CASE
    WHEN CAST(cancelled_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(cancelled_at AS TIMESTAMPTZ)
  END AS cancelled_at,
  CASE
    WHEN CAST(created_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_at AS TIMESTAMPTZ)
  END AS created_at,
  CASE
    WHEN CAST(updated_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(updated_at AS TIMESTAMPTZ)
  END AS updated_at
FROM raw_shopify.orders
WHERE
  NOT COALESCE(deleted, FALSE)
