/* materialized: view */
/* entity: person */
/* description: Zendesk users of one connection (deleted ones, exported with active = false, dropped), named like every person source; Zendesk keeps one name: its first word is the first name, the rest the last name. */
SELECT
  CAST(id AS STRING) AS source_id,
  NULLIF(LOWER(TRIM(email)), '') AS email,
  NULLIF(
    IF(TRIM(name) IS NULL, NULL, COALESCE(SPLIT(TRIM(name), ' ')[SAFE_OFFSET(1 - 1)], '')),
    ''
  ) AS first_name,
  NULLIF(
    TRIM(
      SUBSTRING(
        TRIM(name),
        LENGTH(
          IF(TRIM(name) IS NULL, NULL, COALESCE(SPLIT(TRIM(name), ' ')[SAFE_OFFSET(1 - 1)], ''))
        ) + 1
      )
    ),
    ''
  ) AS last_name,
  NULLIF(TRIM(phone), '') AS phone,
  CASE WHEN NOT organization_id IS NULL THEN 'organizations' END AS company_stream,
  CAST(organization_id AS STRING) AS company_source_id,
  role,
  NULLIF(TRIM(external_id), '') AS external_id,
  SAFE_CAST(created_at AS TIMESTAMP) AS created_at,
  SAFE_CAST(updated_at AS TIMESTAMP) AS updated_at
FROM raw_zendesk.users
WHERE
  NOT COALESCE(deleted, FALSE)
