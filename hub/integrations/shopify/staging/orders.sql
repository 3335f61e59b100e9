-- materialized: view
-- entity: order
-- description: Shopify orders of one connection (deleted ones dropped): the shop-currency totals as DECIMAL(18,2) (Shopify sends amounts as decimal strings), the financial status as Shopify displays it, the buyer as a link to the customers stream.
SELECT
    id AS source_id,
    nullif(trim(name), '') AS order_number,
    nullif(lower(trim(coalesce(email, customer_email))), '') AS email,
    CASE WHEN cancelled_at IS NOT NULL THEN 'cancelled' WHEN closed_at IS NOT NULL THEN 'closed' ELSE 'open' END
        AS status,
    lower(display_financial_status) AS financial_status,
    try_cast(total_price AS DECIMAL(18,2)) AS total,
    try_cast(subtotal_price AS DECIMAL(18,2)) AS subtotal,
    try_cast(total_tax AS DECIMAL(18,2)) AS tax,
    try_cast(total_refunded AS DECIMAL(18,2)) AS refunded,
    upper(currency_code) AS currency,
    CASE WHEN customer_id IS NOT NULL THEN 'customers' END AS person_stream,
    customer_id AS person_source_id,
    try_cast(cancelled_at AS TIMESTAMPTZ) AS cancelled_at,
    try_cast(created_at AS TIMESTAMPTZ) AS created_at,
    try_cast(updated_at AS TIMESTAMPTZ) AS updated_at
FROM raw_shopify.orders
WHERE NOT coalesce(deleted, false)
