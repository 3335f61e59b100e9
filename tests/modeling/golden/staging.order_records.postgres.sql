SELECT
  CAST(NULL AS TEXT) AS connection,
  CAST(NULL AS TEXT) AS stream,
  CAST(NULL AS TEXT) AS source_id,
  CAST(NULL AS TEXT) AS order_number,
  CAST(NULL AS TEXT) AS email,
  CAST(NULL AS TEXT) AS status,
  CAST(NULL AS TEXT) AS financial_status,
  CAST(NULL AS DECIMAL(18, 2)) AS total,
  CAST(NULL AS DECIMAL(18, 2)) AS subtotal,
  CAST(NULL AS DECIMAL(18, 2)) AS tax,
  CAST(NULL AS TEXT) AS currency,
  CAST(NULL AS TEXT) AS person_stream,
  CAST(NULL AS TEXT) AS person_source_id,
  CAST(NULL AS TIMESTAMPTZ) AS cancelled_at,
  CAST(NULL AS TIMESTAMPTZ) AS created_at,
  CAST(NULL AS TIMESTAMPTZ) AS updated_at
WHERE
  FALSE
