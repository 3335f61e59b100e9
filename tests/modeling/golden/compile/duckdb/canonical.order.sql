/* materialized: table */
/* audit: unique(order_id) */
/* audit: not_null(order_id) */
/* description: One row per order from every shop, with a stable order_id, its amounts as decimals with their currency, and its customer in canonical.person (by the order's customer record, else its email). */
/* A record's person: the record it names in its own connection, else the person with its email. */
SELECT
  MD5(CONCAT_WS('/', 'order', r.connection, r.stream, r.source_id)) AS order_id,
  r.connection,
  r.stream,
  r.source_id,
  COALESCE(linked.person_id, e.person_id) AS person_id,
  r.order_number,
  LOWER(TRIM(r.email)) AS email,
  r.status,
  r.financial_status,
  r.total,
  r.subtotal,
  r.tax,
  UPPER(r.currency) AS currency,
  r.cancelled_at,
  r.created_at,
  r.updated_at
FROM staging.order_records AS r
LEFT JOIN _hub.person_identity AS linked
  ON linked.connection = r.connection
  AND linked.stream = r.person_stream
  AND linked.source_id = r.person_source_id
LEFT JOIN canonical.person_by_email AS e
  ON e.email = LOWER(TRIM(r.email))
