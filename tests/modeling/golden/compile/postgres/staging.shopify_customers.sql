-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* entity: person */
/* description: Shopify customers of one connection (deleted ones dropped), named like every person source. */
SELECT
  id AS source_id,
  NULLIF(LOWER(TRIM(email)), '') AS email,
  NULLIF(TRIM(first_name), '') AS first_name,
  NULLIF(TRIM(last_name), '') AS last_name,
  NULLIF(TRIM(phone), '') AS phone,
  CASE
    WHEN CAST(number_of_orders AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(CAST(number_of_orders AS DECIMAL) AS BIGINT)
  END AS orders_count,
  CASE
    WHEN CAST(amount_spent AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(amount_spent AS DECIMAL(18, 2))
  END AS amount_spent,
  UPPER(amount_spent_currency) AS currency,
  CASE
    WHEN CAST(created_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_at AS TIMESTAMPTZ)
  END AS created_at,
  CASE
    WHEN CAST(updated_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(updated_at AS TIMESTAMPTZ)
  END AS updated_at
FROM raw_shopify.customers
WHERE
  NOT COALESCE(deleted, FALSE)
