SELECT
  'shopify' AS connection,
  'orders' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(order_number AS TEXT) AS order_number,
  CAST(email AS TEXT) AS email,
  CAST(status AS TEXT) AS status,
  CAST(financial_status AS TEXT) AS financial_status,
  CAST(total AS DECIMAL(18, 2)) AS total,
  CAST(subtotal AS DECIMAL(18, 2)) AS subtotal,
  CAST(tax AS DECIMAL(18, 2)) AS tax,
  CAST(currency AS TEXT) AS currency,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(cancelled_at AS TIMESTAMPTZ) AS cancelled_at,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  refunded
FROM "staging"."shopify_orders"
