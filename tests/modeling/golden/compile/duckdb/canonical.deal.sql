/* materialized: table */
/* audit: unique(deal_id) */
/* audit: not_null(deal_id) */
/* description: One row per deal (opportunity) from every connection, with a stable deal_id, its amount as a decimal with its currency, and its person and company. */
SELECT
  MD5(CONCAT_WS('/', 'deal', r.connection, r.stream, r.source_id)) AS deal_id,
  r.connection,
  r.stream,
  r.source_id,
  p.person_id,
  c.company_id,
  r.name,
  r.stage,
  COALESCE(r.is_closed, FALSE) AS is_closed,
  COALESCE(r.is_won, FALSE) AS is_won,
  r.amount,
  UPPER(r.currency) AS currency,
  r.close_date,
  r.created_at,
  r.updated_at
FROM staging.deal_records AS r
LEFT JOIN _hub.person_identity AS p
  ON p.connection = r.connection
  AND p.stream = r.person_stream
  AND p.source_id = r.person_source_id
LEFT JOIN _hub.company_identity AS c
  ON c.connection = r.connection
  AND c.stream = r.company_stream
  AND c.source_id = r.company_source_id
