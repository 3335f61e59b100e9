SELECT
  'hubspot' AS connection,
  'deals' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(name AS VARCHAR) AS name,
  CAST("STAGE" AS VARCHAR) AS "STAGE",
  CAST(is_closed AS BOOLEAN) AS is_closed,
  CAST(is_won AS BOOLEAN) AS is_won,
  CAST(amount AS DECIMAL(18, 2)) AS amount,
  CAST(currency AS VARCHAR) AS currency,
  CAST(close_date AS DATE) AS close_date,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(company_stream AS VARCHAR) AS company_stream,
  CAST(company_source_id AS VARCHAR) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "STAGING"."HUBSPOT_DEALS"
UNION ALL
SELECT
  'salesforce' AS connection,
  'Opportunity' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(name AS VARCHAR) AS name,
  CAST("STAGE" AS VARCHAR) AS "STAGE",
  CAST(is_closed AS BOOLEAN) AS is_closed,
  CAST(is_won AS BOOLEAN) AS is_won,
  CAST(amount AS DECIMAL(18, 2)) AS amount,
  CAST(currency AS VARCHAR) AS currency,
  CAST(close_date AS DATE) AS close_date,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(company_stream AS VARCHAR) AS company_stream,
  CAST(company_source_id AS VARCHAR) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "STAGING"."SALESFORCE_OPPORTUNITY"
