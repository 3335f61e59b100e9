-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* entity: invoice */
/* description: QuickBooks invoices of one connection (deleted ones dropped). number is the DocNumber; order_ref is the order the invoice was made for: a line "order: <ref>" in the PrivateNote if there is one, else the DocNumber (push syncs write the shop's order number there). status is paid (nothing left to pay), partial or open; the customer is person_source_id in the customers stream. */
SELECT
  id AS source_id,
  NULLIF(TRIM(doc_number), '') AS number,
  NULLIF(TRIM(email), '') AS email,
  CASE
    WHEN CASE
      WHEN CAST(balance AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
      THEN CAST(balance AS DECIMAL(18, 2))
    END = 0
    AND CASE
      WHEN CAST(total_amt AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
      THEN CAST(total_amt AS DECIMAL(18, 2))
    END > 0
    THEN 'paid'
    WHEN CASE
      WHEN CAST(balance AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
      THEN CAST(balance AS DECIMAL(18, 2))
    END < CASE
      WHEN CAST(total_amt AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
      THEN CAST(total_amt AS DECIMAL(18, 2))
    END
    THEN 'partial'
    ELSE 'open'
  END AS status,
  CASE
    WHEN CAST(total_amt AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(total_amt AS DECIMAL(18, 2))
  END AS total,
  CASE
    WHEN CAST(balance AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(balance AS DECIMAL(18, 2))
  END AS balance,
  UPPER(COALESCE(NULLIF(TRIM(currency), ''), 'USD')) AS currency,
  CASE
    WHEN CAST(due_date AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(due_date AS DATE)
  END AS due_date,
  COALESCE(
    NULLIF(
      COALESCE((
        REGEXP_MATCH(COALESCE(private_note, ''), '(?i)order:\s*(\S+)')
      )[1], ''),
      ''
    ),
    NULLIF(TRIM(doc_number), '')
  ) AS order_ref,
  'customers' AS person_stream,
  customer_id AS person_source_id,
  CASE
    WHEN CAST(txn_date AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(txn_date AS DATE)
  END AS txn_date,
  CASE
    WHEN CAST(created_time AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_time AS TIMESTAMPTZ)
  END AS created_at,
  CASE
    WHEN CAST(last_updated_time AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(last_updated_time AS TIMESTAMPTZ)
  END AS updated_at
FROM raw_quickbooks.invoices
WHERE
  NOT COALESCE(deleted, FALSE)
