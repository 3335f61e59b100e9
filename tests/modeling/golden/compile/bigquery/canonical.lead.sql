/* materialized: table */
/* audit: unique(lead_id) */
/* audit: not_null(lead_id) */
/* description: One row per lead from every connection (CRM leads, form submissions), with a stable lead_id and the person it is (by its own link, else its email). */
/* A record's person: the record it names in its own connection, else the person with its email. */
SELECT
  TO_HEX(MD5(ARRAY_TO_STRING(['lead', r.connection, r.stream, r.source_id], '/'))) AS lead_id,
  r.connection,
  r.stream,
  r.source_id,
  COALESCE(linked.person_id, e.person_id) AS person_id,
  LOWER(TRIM(r.email)) AS email,
  r.first_name,
  r.last_name,
  r.phone,
  r.company_name,
  r.status,
  r.lead_source,
  COALESCE(r.converted, FALSE) AS converted,
  r.created_at,
  r.updated_at
FROM staging.lead_records AS r
LEFT JOIN _hub.person_identity AS linked
  ON linked.connection = r.connection
  AND linked.stream = r.person_stream
  AND linked.source_id = r.person_source_id
LEFT JOIN canonical.person_by_email AS e
  ON e.email = LOWER(TRIM(r.email))
