/* materialized: table */
/* audit: unique(invoice_id) */
/* audit: not_null(invoice_id) */
/* description: One row per invoice from every accounting connection, with a stable invoice_id, its customer in canonical.person, and the order it was made for (order_ref matching exactly one order's number or source id). */
/* A record's person: the record it names in its own connection, else the person with its email. */
/* An order reference names an order when it matches exactly one: an ambiguous one links nothing. */
WITH orders AS (
  SELECT
    "REF",
    MIN(order_id) AS order_id
  FROM (
    SELECT
      source_id AS "REF",
      order_id
    FROM canonical."ORDER"
    UNION ALL
    SELECT
      order_number AS "REF",
      order_id
    FROM canonical."ORDER"
    WHERE
      NOT order_number IS NULL
  )
  GROUP BY
    "REF"
  HAVING
    COUNT(DISTINCT order_id) = 1
)
SELECT
  MD5(
    ARRAY_TO_STRING(ARRAY_CONSTRUCT_COMPACT('invoice', r.connection, r.stream, r.source_id), '/')
  ) AS invoice_id,
  r.connection,
  r.stream,
  r.source_id,
  COALESCE(linked.person_id, e.person_id) AS person_id,
  o.order_id,
  r."NUMBER",
  LOWER(TRIM(r.email)) AS email,
  r.status,
  r.total,
  r.balance,
  UPPER(r.currency) AS currency,
  r.due_date,
  r.order_ref,
  r.created_at,
  r.updated_at
FROM staging.invoice_records AS r
LEFT JOIN _hub.person_identity AS linked
  ON linked.connection = r.connection
  AND linked.stream = r.person_stream
  AND linked.source_id = r.person_source_id
LEFT JOIN canonical.person_by_email AS e
  ON e.email = LOWER(TRIM(r.email))
LEFT JOIN orders AS o
  ON o."REF" = r.order_ref
