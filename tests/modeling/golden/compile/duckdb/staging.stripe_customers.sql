/* materialized: view */
/* entity: person */
/* description: Stripe customers of one connection (deleted ones dropped), named like every person source; Stripe keeps one name: its first word is the first name, the rest the last name. Stripe has no modification time, so updated_at is the creation time. */
SELECT
  id AS source_id,
  NULLIF(TRIM(email), '') AS email,
  NULLIF(SPLIT_PART(TRIM(name), ' ', 1), '') AS first_name,
  NULLIF(TRIM(SUBSTRING(TRIM(name), LENGTH(SPLIT_PART(TRIM(name), ' ', 1)) + 1)), '') AS last_name,
  NULLIF(TRIM(phone), '') AS phone,
  NULLIF(TRIM(address ->> '$.city'), '') AS city,
  NULLIF(TRIM(address ->> '$.country'), '') AS country,
  TO_TIMESTAMP(created) AS created_at,
  TO_TIMESTAMP(created) AS updated_at
FROM raw_stripe.customers
WHERE
  NOT COALESCE(deleted, FALSE)
