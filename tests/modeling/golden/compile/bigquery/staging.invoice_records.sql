SELECT
  'quickbooks' AS connection,
  'invoices' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(number AS STRING) AS number,
  CAST(email AS STRING) AS email,
  CAST(status AS STRING) AS status,
  CAST(total AS NUMERIC) AS total,
  CAST(balance AS NUMERIC) AS balance,
  CAST(currency AS STRING) AS currency,
  CAST(due_date AS DATE) AS due_date,
  CAST(order_ref AS STRING) AS order_ref,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at,
  txn_date
FROM `staging`.`quickbooks_invoices`
UNION ALL
SELECT
  'stripe' AS connection,
  'invoices' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(number AS STRING) AS number,
  CAST(email AS STRING) AS email,
  CAST(status AS STRING) AS status,
  CAST(total AS NUMERIC) AS total,
  CAST(balance AS NUMERIC) AS balance,
  CAST(currency AS STRING) AS currency,
  CAST(due_date AS DATE) AS due_date,
  CAST(order_ref AS STRING) AS order_ref,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at,
  CAST(NULL AS DATE) AS txn_date
FROM `staging`.`stripe_invoices`
