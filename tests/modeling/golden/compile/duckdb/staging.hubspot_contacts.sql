/* materialized: view */
/* entity: person */
/* description: HubSpot contacts of one connection, typed and named like every person source. */
SELECT
  id AS source_id,
  NULLIF(TRIM(email), '') AS email,
  NULLIF(TRIM(firstname), '') AS first_name,
  NULLIF(TRIM(lastname), '') AS last_name,
  NULLIF(TRIM(phone), '') AS phone,
  NULLIF(TRIM(mobilephone), '') AS mobile_phone,
  NULLIF(TRIM(company), '') AS company_name,
  'companies' AS company_stream,
  NULLIF(TRIM(associatedcompanyid), '') AS company_source_id,
  NULLIF(TRIM(jobtitle), '') AS job_title,
  NULLIF(TRIM(city), '') AS city,
  NULLIF(TRIM(country), '') AS country,
  NULLIF(TRIM(lifecyclestage), '') AS lifecycle_stage,
  TRY_CAST(hubspotscore AS DOUBLE) AS lead_score,
  COALESCE(TRY_CAST(createdate AS TIMESTAMPTZ), TRY_CAST(created_at AS TIMESTAMPTZ)) AS created_at,
  COALESCE(TRY_CAST(updated_at AS TIMESTAMPTZ), TRY_CAST(lastmodifieddate AS TIMESTAMPTZ)) AS updated_at
FROM raw_hubspot.contacts
WHERE
  NOT COALESCE(archived, FALSE)
