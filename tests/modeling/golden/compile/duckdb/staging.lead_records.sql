SELECT
  'salesforce' AS connection,
  'Lead' AS stream,
  CAST(source_id AS TEXT) AS source_id,
  CAST(email AS TEXT) AS email,
  CAST(first_name AS TEXT) AS first_name,
  CAST(last_name AS TEXT) AS last_name,
  CAST(phone AS TEXT) AS phone,
  CAST(company_name AS TEXT) AS company_name,
  CAST(status AS TEXT) AS status,
  CAST(lead_source AS TEXT) AS lead_source,
  CAST(converted AS BOOLEAN) AS converted,
  CAST(person_stream AS TEXT) AS person_stream,
  CAST(person_source_id AS TEXT) AS person_source_id,
  CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at
FROM "staging"."salesforce_lead"
