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
  CAST(TRY_CAST(numberofemployees AS DOUBLE) AS BIGINT) AS employee_count, /* HubSpot sends numbers as text, sometimes with a decimal part. */
  TRY_CAST(annualrevenue AS DOUBLE) AS annual_revenue,
  COALESCE(TRY_CAST(createdate AS TIMESTAMPTZ), TRY_CAST(created_at AS TIMESTAMPTZ)) AS created_at,
  COALESCE(TRY_CAST(updated_at AS TIMESTAMPTZ), TRY_CAST(hs_lastmodifieddate AS TIMESTAMPTZ)) AS updated_at
FROM raw_hubspot.companies
WHERE
  NOT COALESCE(archived, FALSE)
