/* materialized: view */
/* description: HubSpot deals of one connection (archived ones dropped), named like the deal entity's records. */
/* entity: deal */
/* (its column contract; the person and company are the deal's associated contact and primary company) */
SELECT
  id AS source_id,
  NULLIF(TRIM(dealname), '') AS name,
  NULLIF(TRIM(dealstage), '') AS "STAGE",
  COALESCE(TRY_TO_BOOLEAN(CAST(hs_is_closed AS VARCHAR)), FALSE) AS is_closed,
  COALESCE(TRY_TO_BOOLEAN(CAST(hs_is_closed_won AS VARCHAR)), FALSE) AS is_won,
  TRY_CAST(CAST(amount AS VARCHAR) AS DECIMAL(18, 2)) AS amount,
  UPPER(NULLIF(TRIM(deal_currency_code), '')) AS currency,
  CAST(TRY_CAST(CAST(closedate AS VARCHAR) AS TIMESTAMPTZ) AS DATE) AS close_date,
  CASE WHEN NOT NULLIF(associations_contacts, '') IS NULL THEN 'contacts' END AS person_stream,
  NULLIF(SPLIT_PART(associations_contacts, ';', 1), '') AS person_source_id,
  CASE WHEN NOT NULLIF(associations_companies, '') IS NULL THEN 'companies' END AS company_stream,
  NULLIF(SPLIT_PART(associations_companies, ';', 1), '') AS company_source_id,
  COALESCE(
    TRY_CAST(CAST(createdate AS VARCHAR) AS TIMESTAMPTZ),
    TRY_CAST(CAST(created_at AS VARCHAR) AS TIMESTAMPTZ)
  ) AS created_at,
  COALESCE(
    TRY_CAST(CAST(updated_at AS VARCHAR) AS TIMESTAMPTZ),
    TRY_CAST(CAST(hs_lastmodifieddate AS VARCHAR) AS TIMESTAMPTZ)
  ) AS updated_at
FROM raw_hubspot.deals
WHERE
  NOT COALESCE(archived, FALSE)
