SELECT
  'shopify' AS connection,
  'orders' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(order_number AS VARCHAR) AS order_number,
  CAST(email AS VARCHAR) AS email,
  CAST(status AS VARCHAR) AS status,
  CAST(financial_status AS VARCHAR) AS financial_status,
  CAST(total AS DECIMAL(18, 2)) AS total,
  CAST(subtotal AS DECIMAL(18, 2)) AS subtotal,
  CAST(tax AS DECIMAL(18, 2)) AS tax,
  CAST(currency AS VARCHAR) AS currency,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(cancelled_at AS TIMESTAMPTZ) AS cancelled_at,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  refunded
FROM "STAGING"."SHOPIFY_ORDERS"
