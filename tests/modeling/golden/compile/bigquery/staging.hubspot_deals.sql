/* materialized: view */
/* description: HubSpot deals of one connection (archived ones dropped), named like the deal entity's records. */
/* entity: deal */
/* (its column contract; the person and company are the deal's associated contact and primary company) */
SELECT
  id AS source_id,
  NULLIF(TRIM(dealname), '') AS name,
  NULLIF(TRIM(dealstage), '') AS stage,
  COALESCE(SAFE_CAST(hs_is_closed AS BOOL), FALSE) AS is_closed,
  COALESCE(SAFE_CAST(hs_is_closed_won AS BOOL), FALSE) AS is_won,
  SAFE_CAST(amount AS NUMERIC(18, 2)) AS amount,
  UPPER(NULLIF(TRIM(deal_currency_code), '')) AS currency,
  CAST(SAFE_CAST(closedate AS TIMESTAMP) AS DATE) AS close_date,
  CASE WHEN NOT NULLIF(associations_contacts, '') IS NULL THEN 'contacts' END AS person_stream,
  NULLIF(
    IF(
      associations_contacts IS NULL,
      NULL,
      COALESCE(SPLIT(associations_contacts, ';')[SAFE_OFFSET(1 - 1)], '')
    ),
    ''
  ) AS person_source_id,
  CASE WHEN NOT NULLIF(associations_companies, '') IS NULL THEN 'companies' END AS company_stream,
  NULLIF(
    IF(
      associations_companies IS NULL,
      NULL,
      COALESCE(SPLIT(associations_companies, ';')[SAFE_OFFSET(1 - 1)], '')
    ),
    ''
  ) AS company_source_id,
  COALESCE(SAFE_CAST(createdate AS TIMESTAMP), SAFE_CAST(created_at AS TIMESTAMP)) AS created_at,
  COALESCE(SAFE_CAST(updated_at AS TIMESTAMP), SAFE_CAST(hs_lastmodifieddate AS TIMESTAMP)) AS updated_at
FROM raw_hubspot.deals
WHERE
  NOT COALESCE(archived, FALSE)
