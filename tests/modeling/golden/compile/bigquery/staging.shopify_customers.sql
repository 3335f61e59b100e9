/* materialized: view */
/* entity: person */
/* description: Shopify customers of one connection (deleted ones dropped), named like every person source. */
SELECT
  id AS source_id,
  NULLIF(LOWER(TRIM(email)), '') AS email,
  NULLIF(TRIM(first_name), '') AS first_name,
  NULLIF(TRIM(last_name), '') AS last_name,
  NULLIF(TRIM(phone), '') AS phone,
  SAFE_CAST(number_of_orders AS INT64) AS orders_count,
  SAFE_CAST(amount_spent AS NUMERIC(18, 2)) AS amount_spent,
  UPPER(amount_spent_currency) AS currency,
  SAFE_CAST(created_at AS TIMESTAMP) AS created_at,
  SAFE_CAST(updated_at AS TIMESTAMP) AS updated_at
FROM raw_shopify.customers
WHERE
  NOT COALESCE(deleted, FALSE)
