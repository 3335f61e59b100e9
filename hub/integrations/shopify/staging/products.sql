-- materialized: view
-- description: Shopify products of one connection (deleted ones dropped), typed.
SELECT
    id AS source_id,
    nullif(trim(title), '') AS title,
    nullif(trim(handle), '') AS handle,
    nullif(trim(vendor), '') AS vendor,
    nullif(trim(product_type), '') AS product_type,
    lower(status) AS status,
    total_inventory,
    try_cast(published_at AS TIMESTAMPTZ) AS published_at,
    try_cast(created_at AS TIMESTAMPTZ) AS created_at,
    try_cast(updated_at AS TIMESTAMPTZ) AS updated_at
FROM raw_shopify.products
WHERE NOT coalesce(deleted, false)
