SELECT
  'hubspot' AS connection,
  'tickets' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(subject AS TEXT) AS subject,
  CAST(status AS TEXT) AS status,
  CAST(priority AS TEXT) AS priority,
  CAST(email AS TEXT) AS email,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(company_stream AS TEXT) AS company_stream,
  CAST(company_source_id AS TEXT) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS TEXT) AS external_id,
  NULL AS ticket_type
FROM "staging"."hubspot_tickets"
UNION ALL
SELECT
  'salesforce' AS connection,
  'Case' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(subject AS TEXT) AS subject,
  CAST(status AS TEXT) AS status,
  CAST(priority AS TEXT) AS priority,
  CAST(email AS TEXT) AS email,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(company_stream AS TEXT) AS company_stream,
  CAST(company_source_id AS TEXT) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS TEXT) AS external_id,
  NULL AS ticket_type
FROM "staging"."salesforce_case"
UNION ALL
SELECT
  'zendesk' AS connection,
  'tickets' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(subject AS TEXT) AS subject,
  CAST(status AS TEXT) AS status,
  CAST(priority AS TEXT) AS priority,
  CAST(email AS TEXT) AS email,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(company_stream AS TEXT) AS company_stream,
  CAST(company_source_id AS TEXT) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  external_id,
  ticket_type
FROM "staging"."zendesk_tickets"
