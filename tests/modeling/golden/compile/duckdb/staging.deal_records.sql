SELECT
  'hubspot' AS connection,
  'deals' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(name AS TEXT) AS name,
  CAST(stage AS TEXT) AS stage,
  CAST(is_closed AS BOOLEAN) AS is_closed,
  CAST(is_won AS BOOLEAN) AS is_won,
  CAST(amount AS DECIMAL(18, 2)) AS amount,
  CAST(currency AS TEXT) AS currency,
  CAST(close_date AS DATE) AS close_date,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(company_stream AS TEXT) AS company_stream,
  CAST(company_source_id AS TEXT) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "staging"."hubspot_deals"
UNION ALL
SELECT
  'salesforce' AS connection,
  'Opportunity' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(name AS TEXT) AS name,
  CAST(stage AS TEXT) AS stage,
  CAST(is_closed AS BOOLEAN) AS is_closed,
  CAST(is_won AS BOOLEAN) AS is_won,
  CAST(amount AS DECIMAL(18, 2)) AS amount,
  CAST(currency AS TEXT) AS currency,
  CAST(close_date AS DATE) AS close_date,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(company_stream AS TEXT) AS company_stream,
  CAST(company_source_id AS TEXT) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "staging"."salesforce_opportunity"
