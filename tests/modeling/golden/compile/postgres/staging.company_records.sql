SELECT
  'hubspot' AS connection,
  'companies' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(name AS TEXT) AS name,
  CAST(domain AS TEXT) AS domain,
  CAST(phone AS TEXT) AS phone,
  CAST(industry AS TEXT) AS industry,
  CAST(city AS TEXT) AS city,
  CAST(country AS TEXT) AS country,
  CAST(employee_count AS BIGINT) AS employee_count,
  CAST(annual_revenue AS DOUBLE PRECISION) AS annual_revenue,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS VARCHAR) AS external_id,
  CAST(NULL AS VARCHAR) AS tier
FROM "staging"."hubspot_companies"
UNION ALL
SELECT
  'salesforce' AS connection,
  'Account' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(name AS TEXT) AS name,
  CAST(domain AS TEXT) AS domain,
  CAST(phone AS TEXT) AS phone,
  CAST(industry AS TEXT) AS industry,
  CAST(city AS TEXT) AS city,
  CAST(country AS TEXT) AS country,
  CAST(employee_count AS BIGINT) AS employee_count,
  CAST(annual_revenue AS DOUBLE PRECISION) AS annual_revenue,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS VARCHAR) AS external_id,
  CAST(NULL AS VARCHAR) AS tier
FROM "staging"."salesforce_account"
UNION ALL
SELECT
  'zendesk' AS connection,
  'organizations' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(name AS TEXT) AS name,
  CAST(domain AS TEXT) AS domain,
  CAST(NULL AS TEXT) AS phone,
  CAST(NULL AS TEXT) AS industry,
  CAST(NULL AS TEXT) AS city,
  CAST(NULL AS TEXT) AS country,
  CAST(NULL AS BIGINT) AS employee_count,
  CAST(NULL AS DOUBLE PRECISION) AS annual_revenue,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  external_id,
  tier
FROM "staging"."zendesk_organizations"
