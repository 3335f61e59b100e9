/* materialized: view */
/* entity: ticket */
/* description: Zendesk tickets of one connection (deleted ones, exported with status "deleted", dropped); the requester is a user of the same connection, the organization one of its organizations; email is the requester's. */
SELECT
  CAST(t.id AS STRING) AS source_id,
  NULLIF(TRIM(t.subject), '') AS subject,
  t.status,
  t.priority,
  NULLIF(LOWER(TRIM(u.email)), '') AS email,
  'users' AS person_stream,
  CAST(t.requester_id AS STRING) AS person_source_id,
  CASE WHEN NOT t.organization_id IS NULL THEN 'organizations' END AS company_stream,
  CAST(t.organization_id AS STRING) AS company_source_id,
  NULLIF(TRIM(t.external_id), '') AS external_id,
  t.type AS ticket_type,
  SAFE_CAST(t.created_at AS TIMESTAMP) AS created_at,
  SAFE_CAST(t.updated_at AS TIMESTAMP) AS updated_at
FROM raw_zendesk.tickets AS t
LEFT JOIN raw_zendesk.users AS u
  ON u.id = t.requester_id
WHERE
  NOT COALESCE(t.deleted, FALSE)
