SELECT
  'salesforce' AS connection,
  'Lead' AS stream,
  CAST(source_id AS VARCHAR) AS source_id,
  CAST(email AS VARCHAR) AS email,
  CAST(first_name AS VARCHAR) AS first_name,
  CAST(last_name AS VARCHAR) AS last_name,
  CAST(phone AS VARCHAR) AS phone,
  CAST(company_name AS VARCHAR) AS company_name,
  CAST(status AS VARCHAR) AS status,
  CAST(lead_source AS VARCHAR) AS lead_source,
  CAST(converted AS BOOLEAN) AS converted,
  CAST(person_stream AS VARCHAR) AS person_stream,
  CAST(person_source_id AS VARCHAR) AS person_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "STAGING"."SALESFORCE_LEAD"
