SELECT
  'hubspot' AS connection,
  'tickets' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(subject AS STRING) AS subject,
  CAST(status AS STRING) AS status,
  CAST(priority AS STRING) AS priority,
  CAST(email AS STRING) AS email,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(company_stream AS STRING) AS company_stream,
  CAST(company_source_id AS STRING) AS company_source_id,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at,
  CAST(NULL AS STRING) AS external_id,
  NULL AS ticket_type
FROM `staging`.`hubspot_tickets`
UNION ALL
SELECT
  'salesforce' AS connection,
  'Case' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(subject AS STRING) AS subject,
  CAST(status AS STRING) AS status,
  CAST(priority AS STRING) AS priority,
  CAST(email AS STRING) AS email,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(company_stream AS STRING) AS company_stream,
  CAST(company_source_id AS STRING) AS company_source_id,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at,
  CAST(NULL AS STRING) AS external_id,
  NULL AS ticket_type
FROM `staging`.`salesforce_case`
UNION ALL
SELECT
  'zendesk' AS connection,
  'tickets' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(subject AS STRING) AS subject,
  CAST(status AS STRING) AS status,
  CAST(priority AS STRING) AS priority,
  CAST(email AS STRING) AS email,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(company_stream AS STRING) AS company_stream,
  CAST(company_source_id AS STRING) AS company_source_id,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at,
  external_id,
  ticket_type
FROM `staging`.`zendesk_tickets`
