SELECT
  'salesforce' AS connection,
  'Lead' AS stream,
  CAST(source_id AS STRING) AS source_id,
  CAST(email AS STRING) AS email,
  CAST(first_name AS STRING) AS first_name,
  CAST(last_name AS STRING) AS last_name,
  CAST(phone AS STRING) AS phone,
  CAST(company_name AS STRING) AS company_name,
  CAST(status AS STRING) AS status,
  CAST(lead_source AS STRING) AS lead_source,
  CAST(converted AS BOOL) AS converted,
  CAST(person_stream AS STRING) AS person_stream,
  CAST(person_source_id AS STRING) AS person_source_id,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(updated_at AS TIMESTAMP) AS updated_at
FROM `staging`.`salesforce_lead`
