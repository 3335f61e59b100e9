SELECT
  'quickbooks' AS connection,
  'payments' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(amount AS NUMERIC) AS amount,
  CAST(currency AS STRING) AS currency,
  CAST(status AS STRING) AS status,
  CAST(invoice_stream AS STRING) AS invoice_stream,
  CAST(invoice_source_id AS STRING) AS invoice_source_id,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(paid_at AS TIMESTAMP) AS paid_at,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at
FROM `staging`.`quickbooks_payments`
UNION ALL
SELECT
  'stripe' AS connection,
  'charges' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(amount AS NUMERIC) AS amount,
  CAST(currency AS STRING) AS currency,
  CAST(status AS STRING) AS status,
  CAST(invoice_stream AS STRING) AS invoice_stream,
  CAST(invoice_source_id AS STRING) AS invoice_source_id,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(paid_at AS TIMESTAMP) AS paid_at,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at
FROM `staging`.`stripe_charges`
