SELECT
  'quickbooks' AS connection,
  'payments' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(amount AS DECIMAL(18, 2)) AS amount,
  CAST(currency AS VARCHAR) AS currency,
  CAST(status AS VARCHAR) AS status,
  CAST(invoice_stream AS VARCHAR) AS invoice_stream,
  CAST(invoice_source_id AS VARCHAR) AS invoice_source_id,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(paid_at AS TIMESTAMPTZ) AS paid_at,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "STAGING"."QUICKBOOKS_PAYMENTS"
UNION ALL
SELECT
  'stripe' AS connection,
  'charges' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(amount AS DECIMAL(18, 2)) AS amount,
  CAST(currency AS VARCHAR) AS currency,
  CAST(status AS VARCHAR) AS status,
  CAST(invoice_stream AS VARCHAR) AS invoice_stream,
  CAST(invoice_source_id AS VARCHAR) AS invoice_source_id,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(paid_at AS TIMESTAMPTZ) AS paid_at,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "STAGING"."STRIPE_CHARGES"
