SELECT
  'hubspot' AS connection,
  'deals' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(name AS STRING) AS name,
  CAST(stage AS STRING) AS stage,
  CAST(is_closed AS BOOL) AS is_closed,
  CAST(is_won AS BOOL) AS is_won,
  CAST(amount AS NUMERIC) AS amount,
  CAST(currency AS STRING) AS currency,
  CAST(close_date AS DATE) AS close_date,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(company_stream AS STRING) AS company_stream,
  CAST(company_source_id AS STRING) AS company_source_id,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at
FROM `staging`.`hubspot_deals`
UNION ALL
SELECT
  'salesforce' AS connection,
  'Opportunity' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(name AS STRING) AS name,
  CAST(stage AS STRING) AS stage,
  CAST(is_closed AS BOOL) AS is_closed,
  CAST(is_won AS BOOL) AS is_won,
  CAST(amount AS NUMERIC) AS amount,
  CAST(currency AS STRING) AS currency,
  CAST(close_date AS DATE) AS close_date,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(company_stream AS STRING) AS company_stream,
  CAST(company_source_id AS STRING) AS company_source_id,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at
FROM `staging`.`salesforce_opportunity`
