-- materialized: view
-- entity: person
-- description: Stripe customers of one connection (deleted ones dropped), named like every person source; Stripe keeps one name: its first word is the first name, the rest the last name. Stripe has no modification time, so updated_at is the creation time.
SELECT
    id AS source_id,
    nullif(trim(email), '') AS email,
    nullif(split_part(trim(name), ' ', 1), '') AS first_name,
    nullif(trim(substr(trim(name), length(split_part(trim(name), ' ', 1)) + 1)), '') AS last_name,
    nullif(trim(phone), '') AS phone,
    nullif(trim(json_extract_string(address, '$.city')), '') AS city,
    nullif(trim(json_extract_string(address, '$.country')), '') AS country,
    to_timestamp(created) AS created_at,
    to_timestamp(created) AS updated_at
FROM raw_stripe.customers
WHERE NOT coalesce(deleted, false)
