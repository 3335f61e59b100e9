SELECT
  'quickbooks' AS connection,
  'invoices' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST("NUMBER" AS VARCHAR) AS "NUMBER",
  CAST(email AS VARCHAR) AS email,
  CAST(status AS VARCHAR) AS status,
  CAST(total AS DECIMAL(18, 2)) AS total,
  CAST(balance AS DECIMAL(18, 2)) AS balance,
  CAST(currency AS VARCHAR) AS currency,
  CAST(due_date AS DATE) AS due_date,
  CAST(order_ref AS VARCHAR) AS order_ref,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  txn_date
FROM "STAGING"."QUICKBOOKS_INVOICES"
UNION ALL
SELECT
  'stripe' AS connection,
  'invoices' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST("NUMBER" AS VARCHAR) AS "NUMBER",
  CAST(email AS VARCHAR) AS email,
  CAST(status AS VARCHAR) AS status,
  CAST(total AS DECIMAL(18, 2)) AS total,
  CAST(balance AS DECIMAL(18, 2)) AS balance,
  CAST(currency AS VARCHAR) AS currency,
  CAST(due_date AS DATE) AS due_date,
  CAST(order_ref AS VARCHAR) AS order_ref,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS DATE) AS txn_date
FROM "STAGING"."STRIPE_INVOICES"
