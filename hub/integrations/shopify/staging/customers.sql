-- materialized: view
-- entity: person
-- description: Shopify customers of one connection (deleted ones dropped), named like every person source.
SELECT
    id AS source_id,
    nullif(lower(trim(email)), '') AS email,
    nullif(trim(first_name), '') AS first_name,
    nullif(trim(last_name), '') AS last_name,
    nullif(trim(phone), '') AS phone,
    try_cast(number_of_orders AS BIGINT) AS orders_count,
    try_cast(amount_spent AS DECIMAL(18,2)) AS amount_spent,
    upper(amount_spent_currency) AS currency,
    try_cast(created_at AS TIMESTAMPTZ) AS created_at,
    try_cast(updated_at AS TIMESTAMPTZ) AS updated_at
FROM raw_shopify.customers
WHERE NOT coalesce(deleted, false)
