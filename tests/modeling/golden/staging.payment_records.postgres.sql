SELECT
  CAST(NULL AS TEXT) AS connection,
  CAST(NULL AS TEXT) AS stream,
  CAST(NULL AS TEXT) AS source_id,
  CAST(NULL AS DECIMAL(18, 2)) AS amount,
  CAST(NULL AS TEXT) AS currency,
  CAST(NULL AS TEXT) AS status,
  CAST(NULL AS TEXT) AS invoice_stream,
  CAST(NULL AS TEXT) AS invoice_source_id,
  CAST(NULL AS TEXT) AS person_stream,
  CAST(NULL AS TEXT) AS person_source_id,
  CAST(NULL AS TIMESTAMPTZ) AS paid_at,
  CAST(NULL AS TIMESTAMPTZ) AS created_at,
  CAST(NULL AS TIMESTAMPTZ) AS updated_at
WHERE
  FALSE
