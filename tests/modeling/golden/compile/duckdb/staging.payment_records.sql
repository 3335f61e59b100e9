SELECT
  'quickbooks' AS connection,
  'payments' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(amount AS DECIMAL(18, 2)) AS amount,
  CAST(currency AS TEXT) AS currency,
  CAST(status AS TEXT) AS status,
  CAST(invoice_stream AS TEXT) AS invoice_stream,
  CAST(invoice_source_id AS TEXT) AS invoice_source_id,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(paid_at AS TIMESTAMPTZ) AS paid_at,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "staging"."quickbooks_payments"
UNION ALL
SELECT
  'stripe' AS connection,
  'charges' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(amount AS DECIMAL(18, 2)) AS amount,
  CAST(currency AS TEXT) AS currency,
  CAST(status AS TEXT) AS status,
  CAST(invoice_stream AS TEXT) AS invoice_stream,
  CAST(invoice_source_id AS TEXT) AS invoice_source_id,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(paid_at AS TIMESTAMPTZ) AS paid_at,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "staging"."stripe_charges"
