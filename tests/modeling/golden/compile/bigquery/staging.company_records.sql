SELECT
  'hubspot' AS connection,
  'companies' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(name AS STRING) AS name,
  CAST(domain AS STRING) AS domain,
  CAST(phone AS STRING) AS phone,
  CAST(industry AS STRING) AS industry,
  CAST(city AS STRING) AS city,
  CAST(country AS STRING) AS country,
  CAST(employee_count AS INT64) AS employee_count,
  CAST(annual_revenue AS FLOAT64) AS annual_revenue,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at,
  CAST(NULL AS STRING) AS external_id,
  CAST(NULL AS STRING) AS tier
FROM `staging`.`hubspot_companies`
UNION ALL
SELECT
  'salesforce' AS connection,
  'Account' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(name AS STRING) AS name,
  CAST(domain AS STRING) AS domain,
  CAST(phone AS STRING) AS phone,
  CAST(industry AS STRING) AS industry,
  CAST(city AS STRING) AS city,
  CAST(country AS STRING) AS country,
  CAST(employee_count AS INT64) AS employee_count,
  CAST(annual_revenue AS FLOAT64) AS annual_revenue,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at,
  CAST(NULL AS STRING) AS external_id,
  CAST(NULL AS STRING) AS tier
FROM `staging`.`salesforce_account`
UNION ALL
SELECT
  'zendesk' AS connection,
  'organizations' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(name AS STRING) AS name,
  CAST(domain AS STRING) AS domain,
  CAST(NULL AS STRING) AS phone,
  CAST(NULL AS STRING) AS industry,
  CAST(NULL AS STRING) AS city,
  CAST(NULL AS STRING) AS country,
  CAST(NULL AS INT64) AS employee_count,
  CAST(NULL AS FLOAT64) AS annual_revenue,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at,
  external_id,
  tier
FROM `staging`.`zendesk_organizations`
