-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
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
  CASE
    WHEN CAST(published_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(published_at AS TIMESTAMPTZ)
  END AS published_at,
  CASE
    WHEN CAST(created_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_at AS TIMESTAMPTZ)
  END AS created_at,
  CASE
    WHEN CAST(updated_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(updated_at AS TIMESTAMPTZ)
  END AS updated_at
FROM raw_shopify.products
WHERE
  NOT COALESCE(deleted, FALSE)
