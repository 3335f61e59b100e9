SELECT
  'hubspot' AS connection,
  'tickets' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(subject AS VARCHAR) AS subject,
  CAST(status AS VARCHAR) AS status,
  CAST(priority AS VARCHAR) AS priority,
  CAST(email AS VARCHAR) AS email,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(company_stream AS VARCHAR) AS company_stream,
  CAST(company_source_id AS VARCHAR) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS VARCHAR) AS external_id,
  NULL AS ticket_type
FROM "STAGING"."HUBSPOT_TICKETS"
UNION ALL
SELECT
  'salesforce' AS connection,
  'Case' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(subject AS VARCHAR) AS subject,
  CAST(status AS VARCHAR) AS status,
  CAST(priority AS VARCHAR) AS priority,
  CAST(email AS VARCHAR) AS email,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(company_stream AS VARCHAR) AS company_stream,
  CAST(company_source_id AS VARCHAR) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  CAST(NULL AS VARCHAR) AS external_id,
  NULL AS ticket_type
FROM "STAGING"."SALESFORCE_CASE"
UNION ALL
SELECT
  'zendesk' AS connection,
  'tickets' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(subject AS VARCHAR) AS subject,
  CAST(status AS VARCHAR) AS status,
  CAST(priority AS VARCHAR) AS priority,
  CAST(email AS VARCHAR) AS email,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(company_stream AS VARCHAR) AS company_stream,
  CAST(company_source_id AS VARCHAR) AS company_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at,
  external_id,
  ticket_type
FROM "STAGING"."ZENDESK_TICKETS"
