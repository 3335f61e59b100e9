/* materialized: view */
/* description: Shopify products of one connection (deleted ones dropped), typed. */
SELECT
  id AS source_id,
  NULLIF(TRIM(title), '') AS title,
  NULLIF(TRIM(handle), '') AS handle,
  NULLIF(TRIM(vendor), '') AS vendor,
  NULLIF(TRIM(product_type), '') AS product_type,
  LOWER(status) AS status,
  total_inventory,
  SAFE_CAST(published_at AS TIMESTAMP) AS published_at,
  SAFE_CAST(created_at AS TIMESTAMP) AS created_at,
  SAFE_CAST(updated_at AS TIMESTAMP) AS updated_at
FROM raw_shopify.products
WHERE
  NOT COALESCE(deleted, FALSE)
