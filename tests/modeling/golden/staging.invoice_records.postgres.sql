SELECT
  CAST(NULL AS TEXT) AS connection,
  CAST(NULL AS TEXT) AS stream,
  CAST(NULL AS TEXT) AS source_id,
  CAST(NULL AS TEXT) AS number,
  CAST(NULL AS TEXT) AS email,
  CAST(NULL AS TEXT) AS status,
  CAST(NULL AS DECIMAL(18, 2)) AS total,
  CAST(NULL AS DECIMAL(18, 2)) AS balance,
  CAST(NULL AS TEXT) AS currency,
  CAST(NULL AS DATE) AS due_date,
  CAST(NULL AS TEXT) AS order_ref,
  CAST(NULL AS TEXT) AS person_stream,
  CAST(NULL AS TEXT) AS person_source_id,
  CAST(NULL AS TIMESTAMPTZ) AS created_at,
  CAST(NULL AS TIMESTAMPTZ) AS updated_at
WHERE
  FALSE
