/* materialized: view */
/* entity: company */
/* description: HubSpot companies of one connection, typed and named like every company source. */
SELECT
  id AS source_id,
  NULLIF(TRIM(name), '') AS name,
  NULLIF(TRIM(domain), '') AS domain,
  NULLIF(TRIM(phone), '') AS phone,
  NULLIF(TRIM(industry), '') AS industry,
  NULLIF(TRIM(city), '') AS city,
  NULLIF(TRIM(country), '') AS country,
  CAST(SAFE_CAST(numberofemployees AS FLOAT64) AS INT64) AS employee_count, /* HubSpot sends numbers as text, sometimes with a decimal part. */
  SAFE_CAST(annualrevenue AS FLOAT64) AS annual_revenue,
  COALESCE(SAFE_CAST(createdate AS TIMESTAMP), SAFE_CAST(created_at AS TIMESTAMP)) AS created_at,
  COALESCE(SAFE_CAST(updated_at AS TIMESTAMP), SAFE_CAST(hs_lastmodifieddate AS TIMESTAMP)) AS updated_at
FROM raw_hubspot.companies
WHERE
  NOT COALESCE(archived, FALSE)
