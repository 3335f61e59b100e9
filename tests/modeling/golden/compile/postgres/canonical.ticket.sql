/* materialized: table */
/* audit: unique(ticket_id) */
/* audit: not_null(ticket_id) */
/* description: One row per support ticket (or CRM case) from every connection, with a stable ticket_id, its requester in canonical.person (by the ticket's own link, else its email) and its company. */
/* A record's person: the record it names in its own connection, else the person with its email. */
SELECT
  MD5(CONCAT_WS('/', 'ticket', r.connection, r.stream, r.source_id)) AS ticket_id,
  r.connection,
  r.stream,
  r.source_id,
  COALESCE(linked.person_id, e.person_id) AS person_id,
  c.company_id,
  r.subject,
  r.status,
  r.priority,
  LOWER(TRIM(r.email)) AS email,
  r.created_at,
  r.updated_at
FROM staging.ticket_records AS r
LEFT JOIN _hub.person_identity AS linked
  ON linked.connection = r.connection
  AND linked.stream = r.person_stream
  AND linked.source_id = r.person_source_id
LEFT JOIN canonical.person_by_email AS e
  ON e.email = LOWER(TRIM(r.email))
LEFT JOIN _hub.company_identity AS c
  ON c.connection = r.connection
  AND c.stream = r.company_stream
  AND c.source_id = r.company_source_id
