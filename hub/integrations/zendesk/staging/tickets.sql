-- materialized: view
-- entity: ticket
-- description: Zendesk tickets of one connection (deleted ones, exported with status "deleted", dropped); the requester is a user of the same connection, the organization one of its organizations; email is the requester's.
SELECT
    CAST(t.id AS VARCHAR) AS source_id,
    nullif(trim(t.subject), '') AS subject,
    t.status,
    t.priority,
    nullif(lower(trim(u.email)), '') AS email,
    'users' AS person_stream,
    CAST(t.requester_id AS VARCHAR) AS person_source_id,
    CASE WHEN t.organization_id IS NOT NULL THEN 'organizations' END AS company_stream,
    CAST(t.organization_id AS VARCHAR) AS company_source_id,
    nullif(trim(t.external_id), '') AS external_id,
    t.type AS ticket_type,
    try_cast(t.created_at AS TIMESTAMPTZ) AS created_at,
    try_cast(t.updated_at AS TIMESTAMPTZ) AS updated_at
FROM raw_zendesk.tickets AS t
LEFT JOIN raw_zendesk.users AS u ON u.id = t.requester_id
WHERE NOT coalesce(t.deleted, false)
