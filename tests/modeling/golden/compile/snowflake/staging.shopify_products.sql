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
  TRY_CAST(CAST(published_at AS VARCHAR) AS TIMESTAMPTZ) AS published_at,
  TRY_CAST(CAST(created_at AS VARCHAR) AS TIMESTAMPTZ) AS created_at,
  TRY_CAST(CAST(updated_at AS VARCHAR) AS TIMESTAMPTZ) AS updated_at
FROM raw_shopify.products
WHERE
  NOT COALESCE(deleted, FALSE)
