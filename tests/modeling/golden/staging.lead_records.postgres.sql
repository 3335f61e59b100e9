SELECT
  CAST(NULL AS TEXT) AS connection,
  CAST(NULL AS TEXT) AS stream,
  CAST(NULL AS TEXT) AS source_id,
  CAST(NULL AS TEXT) AS email,
  CAST(NULL AS TEXT) AS first_name,
  CAST(NULL AS TEXT) AS last_name,
  CAST(NULL AS TEXT) AS phone,
  CAST(NULL AS TEXT) AS company_name,
  CAST(NULL AS TEXT) AS status,
  CAST(NULL AS TEXT) AS lead_source,
  CAST(NULL AS BOOLEAN) AS converted,
  CAST(NULL AS TEXT) AS person_stream,
  CAST(NULL AS TEXT) AS person_source_id,
  CAST(NULL AS TIMESTAMPTZ) AS created_at,
  CAST(NULL AS TIMESTAMPTZ) AS updated_at
WHERE
  FALSE
