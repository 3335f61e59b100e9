SELECT
  CAST(NULL AS TEXT) AS connection,
  CAST(NULL AS TEXT) AS stream,
  CAST(NULL AS TEXT) AS source_id,
  CAST(NULL AS TEXT) AS name,
  CAST(NULL AS TEXT) AS stage,
  CAST(NULL AS BOOLEAN) AS is_closed,
  CAST(NULL AS BOOLEAN) AS is_won,
  CAST(NULL AS DECIMAL(18, 2)) AS amount,
  CAST(NULL AS TEXT) AS currency,
  CAST(NULL AS DATE) AS close_date,
  CAST(NULL AS TEXT) AS person_stream,
  CAST(NULL AS TEXT) AS person_source_id,
  CAST(NULL AS TEXT) AS company_stream,
  CAST(NULL AS TEXT) AS company_source_id,
  CAST(NULL AS TIMESTAMPTZ) AS created_at,
  CAST(NULL AS TIMESTAMPTZ) AS updated_at
WHERE
  FALSE
