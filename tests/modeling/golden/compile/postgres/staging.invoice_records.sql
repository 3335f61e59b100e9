SELECT
  'quickbooks' AS connection,
  'invoices' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(number AS TEXT) AS number,
  CAST(email AS TEXT) AS email,
  CAST(status AS TEXT) AS status,
  CAST(total AS DECIMAL(18, 2)) AS total,
  CAST(balance AS DECIMAL(18, 2)) AS balance,
  CAST(currency AS TEXT) AS currency,
  CAST(due_date AS DATE) AS due_date,
  CAST(order_ref AS TEXT) AS order_ref,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  txn_date
FROM "staging"."quickbooks_invoices"
UNION ALL
SELECT
  'stripe' AS connection,
  'invoices' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(number AS TEXT) AS number,
  CAST(email AS TEXT) AS email,
  CAST(status AS TEXT) AS status,
  CAST(total AS DECIMAL(18, 2)) AS total,
  CAST(balance AS DECIMAL(18, 2)) AS balance,
  CAST(currency AS TEXT) AS currency,
  CAST(due_date AS DATE) AS due_date,
  CAST(order_ref AS TEXT) AS order_ref,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS DATE) AS txn_date
FROM "staging"."stripe_invoices"
