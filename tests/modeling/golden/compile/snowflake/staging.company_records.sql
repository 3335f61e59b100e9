SELECT
  'hubspot' AS connection,
  'companies' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(name AS VARCHAR) AS name,
  CAST(domain AS VARCHAR) AS domain,
  CAST(phone AS VARCHAR) AS phone,
  CAST(industry AS VARCHAR) AS industry,
  CAST(city AS VARCHAR) AS city,
  CAST(country AS VARCHAR) AS country,
  CAST(employee_count AS BIGINT) AS employee_count,
  CAST(annual_revenue AS DOUBLE) AS annual_revenue,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS VARCHAR) AS external_id,
  CAST(NULL AS VARCHAR) AS tier
FROM "STAGING"."HUBSPOT_COMPANIES"
UNION ALL
SELECT
  'salesforce' AS connection,
  'Account' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(name AS VARCHAR) AS name,
  CAST(domain AS VARCHAR) AS domain,
  CAST(phone AS VARCHAR) AS phone,
  CAST(industry AS VARCHAR) AS industry,
  CAST(city AS VARCHAR) AS city,
  CAST(country AS VARCHAR) AS country,
  CAST(employee_count AS BIGINT) AS employee_count,
  CAST(annual_revenue AS DOUBLE) AS annual_revenue,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS VARCHAR) AS external_id,
  CAST(NULL AS VARCHAR) AS tier
FROM "STAGING"."SALESFORCE_ACCOUNT"
UNION ALL
SELECT
  'zendesk' AS connection,
  'organizations' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(name AS VARCHAR) AS name,
  CAST(domain AS VARCHAR) AS domain,
  CAST(NULL AS VARCHAR) AS phone,
  CAST(NULL AS VARCHAR) AS industry,
  CAST(NULL AS VARCHAR) AS city,
  CAST(NULL AS VARCHAR) AS country,
  CAST(NULL AS BIGINT) AS employee_count,
  CAST(NULL AS DOUBLE) AS annual_revenue,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  external_id,
  tier
FROM "STAGING"."ZENDESK_ORGANIZATIONS"
