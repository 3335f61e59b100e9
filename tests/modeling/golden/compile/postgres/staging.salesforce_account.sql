-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
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
  CAST(annual_revenue AS DOUBLE PRECISION) AS annual_revenue,
  CASE
    WHEN CAST(created_date AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_date AS TIMESTAMPTZ)
  END AS created_at,
  COALESCE(
    CASE
      WHEN CAST(last_modified_date AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(last_modified_date AS TIMESTAMPTZ)
    END,
    CASE
      WHEN CAST(system_modstamp AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(system_modstamp AS TIMESTAMPTZ)
    END
  ) AS updated_at
FROM raw_salesforce.account
WHERE
  NOT COALESCE(is_deleted, FALSE)
