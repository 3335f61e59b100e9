/* materialized: table */
/* audit: unique(payment_id) */
/* audit: not_null(payment_id) */
/* description: One row per payment from every connection, with a stable payment_id, the invoice it pays (canonical.invoice) and its person. */
SELECT
  MD5(CONCAT_WS('/', 'payment', r.connection, r.stream, r.source_id)) AS payment_id,
  r.connection,
  r.stream,
  r.source_id,
  p.person_id,
  i.invoice_id,
  r.amount,
  UPPER(r.currency) AS currency,
  r.status,
  r.paid_at,
  r.created_at,
  r.updated_at
FROM staging.payment_records AS r
LEFT JOIN _hub.person_identity AS p
  ON p.connection = r.connection
  AND p.stream = r.person_stream
  AND p.source_id = r.person_source_id
LEFT JOIN canonical.invoice AS i
  ON i.connection = r.connection
  AND i.stream = r.invoice_stream
  AND i.source_id = r.invoice_source_id
