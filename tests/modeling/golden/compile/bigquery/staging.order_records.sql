SELECT
  'shopify' AS connection,
  'orders' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(order_number AS STRING) AS order_number,
  CAST(email AS STRING) AS email,
  CAST(status AS STRING) AS status,
  CAST(financial_status AS STRING) AS financial_status,
  CAST(total AS NUMERIC) AS total,
  CAST(subtotal AS NUMERIC) AS subtotal,
  CAST(tax AS NUMERIC) AS tax,
  CAST(currency AS STRING) AS currency,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(cancelled_at AS TIMESTAMP) AS cancelled_at,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at,
  refunded
FROM `staging`.`shopify_orders`
