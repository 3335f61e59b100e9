-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
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
  CASE
    WHEN CAST(hubspotscore AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(hubspotscore AS DOUBLE PRECISION)
  END AS lead_score,
  COALESCE(
    CASE
      WHEN CAST(createdate AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(createdate AS TIMESTAMPTZ)
    END,
    CASE
      WHEN CAST(created_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(created_at AS TIMESTAMPTZ)
    END
  ) AS created_at,
  COALESCE(
    CASE
      WHEN CAST(updated_at AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(updated_at AS TIMESTAMPTZ)
    END,
    CASE
      WHEN CAST(lastmodifieddate AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(lastmodifieddate AS TIMESTAMPTZ)
    END
  ) AS updated_at
FROM raw_hubspot.contacts
WHERE
  NOT COALESCE(archived, FALSE)
