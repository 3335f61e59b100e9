/* materialized: view */
/* description: HubSpot deals of one connection (archived ones dropped), named like the deal entity's records. */
/* entity: deal */
/* (its column contract; the person and company are the deal's associated contact and primary company) */
SELECT
  id AS source_id,
  NULLIF(TRIM(dealname), '') AS name,
  NULLIF(TRIM(dealstage), '') AS stage,
  COALESCE(TRY_CAST(hs_is_closed AS BOOLEAN), FALSE) AS is_closed,
  COALESCE(TRY_CAST(hs_is_closed_won AS BOOLEAN), FALSE) AS is_won,
  TRY_CAST(amount AS DECIMAL(18, 2)) AS amount,
  UPPER(NULLIF(TRIM(deal_currency_code), '')) AS currency,
  CAST(TRY_CAST(closedate AS TIMESTAMPTZ) AS DATE) AS close_date,
  CASE WHEN NOT NULLIF(associations_contacts, '') IS NULL THEN 'contacts' END AS person_stream,
  NULLIF(SPLIT_PART(associations_contacts, ';', 1), '') AS person_source_id,
  CASE WHEN NOT NULLIF(associations_companies, '') IS NULL THEN 'companies' END AS company_stream,
  NULLIF(SPLIT_PART(associations_companies, ';', 1), '') AS company_source_id,
  COALESCE(TRY_CAST(createdate AS TIMESTAMPTZ), TRY_CAST(created_at AS TIMESTAMPTZ)) AS created_at,
  COALESCE(TRY_CAST(updated_at AS TIMESTAMPTZ), TRY_CAST(hs_lastmodifieddate AS TIMESTAMPTZ)) AS updated_at
FROM raw_hubspot.deals
WHERE
  NOT COALESCE(archived, FALSE)
