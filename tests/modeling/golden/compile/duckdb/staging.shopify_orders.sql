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
  TRY_CAST(total_price AS DECIMAL(18, 2)) AS total,
  TRY_CAST(subtotal_price AS DECIMAL(18, 2)) AS subtotal,
  TRY_CAST(total_tax AS DECIMAL(18, 2)) AS tax,
  TRY_CAST(total_refunded AS DECIMAL(18, 2)) AS refunded,
  UPPER(currency_code) AS currency,
  CASE WHEN NOT customer_id IS NULL THEN 'customers' END AS person_stream,
  customer_id AS person_source_id,
  TRY_CAST(cancelled_at AS TIMESTAMPTZ) AS cancelled_at,
  TRY_CAST(created_at AS TIMESTAMPTZ) AS created_at,
  TRY_CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM raw_shopify.orders
WHERE
  NOT COALESCE(deleted, FALSE)
