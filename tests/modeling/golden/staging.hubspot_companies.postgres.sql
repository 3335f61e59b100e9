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
  CAST(CAST(numberofemployees AS DOUBLE PRECISION) AS BIGINT) AS employee_count, /* HubSpot sends numbers as text, sometimes with a decimal part. */
  CAST(annualrevenue AS DOUBLE PRECISION) AS annual_revenue,
  COALESCE(CAST(createdate AS TIMESTAMPTZ), CAST(created_at AS TIMESTAMPTZ)) AS created_at,
  COALESCE(CAST(updated_at AS TIMESTAMPTZ), CAST(hs_lastmodifieddate AS TIMESTAMPTZ)) AS updated_at
FROM raw_hubspot.companies
WHERE
  NOT COALESCE(archived, FALSE)
