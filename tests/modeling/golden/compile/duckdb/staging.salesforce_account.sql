/* materialized: view */
/* entity: company */
/* description: Salesforce accounts of one connection (deleted ones dropped), named like every company source. */
SELECT
  id AS source_id,
  NULLIF(TRIM(name), '') AS name,
  NULLIF(TRIM(website), '') AS domain,
  NULLIF(TRIM(phone), '') AS phone,
  NULLIF(TRIM(industry), '') AS industry,
  NULLIF(TRIM(billing_city), '') AS city,
  NULLIF(TRIM(billing_country), '') AS country,
  CAST(number_of_employees AS BIGINT) AS employee_count,
  CAST(annual_revenue AS DOUBLE) AS annual_revenue,
  TRY_CAST(created_date AS TIMESTAMPTZ) AS created_at,
  COALESCE(
    TRY_CAST(last_modified_date AS TIMESTAMPTZ),
    TRY_CAST(system_modstamp AS TIMESTAMPTZ)
  ) AS updated_at
FROM raw_salesforce.account
WHERE
  NOT COALESCE(is_deleted, FALSE)
