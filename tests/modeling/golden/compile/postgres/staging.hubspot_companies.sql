-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
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
  CAST(CASE
    WHEN CAST(numberofemployees AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(numberofemployees AS DOUBLE PRECISION)
  END AS BIGINT) AS employee_count, /* HubSpot sends numbers as text, sometimes with a decimal part. */
  CASE
    WHEN CAST(annualrevenue AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(annualrevenue AS DOUBLE PRECISION)
  END AS annual_revenue,
  COALESCE(
    CASE
      WHEN CAST(createdate AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(createdate AS TIMESTAMPTZ)
    END,
    CASE
      WHEN CAST(created_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(created_at AS TIMESTAMPTZ)
    END
  ) AS created_at,
  COALESCE(
    CASE
      WHEN CAST(updated_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(updated_at AS TIMESTAMPTZ)
    END,
    CASE
      WHEN CAST(hs_lastmodifieddate AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(hs_lastmodifieddate AS TIMESTAMPTZ)
    END
  ) AS updated_at
FROM raw_hubspot.companies
WHERE
  NOT COALESCE(archived, FALSE)
