-- materialized: view
-- description: HubSpot deals of one connection (archived ones dropped), named like the deal entity's records.
-- entity: deal
-- (its column contract; the person and company are the deal's associated contact and primary company)
SELECT
    id AS source_id,
    nullif(trim(dealname), '') AS name,
    nullif(trim(dealstage), '') AS stage,
    coalesce(try_cast(hs_is_closed AS BOOLEAN), false) AS is_closed,
    coalesce(try_cast(hs_is_closed_won AS BOOLEAN), false) AS is_won,
    try_cast(amount AS DECIMAL(18,2)) AS amount,
    upper(nullif(trim(deal_currency_code), '')) AS currency,
    CAST(try_cast(closedate AS TIMESTAMPTZ) AS DATE) AS close_date,
    CASE WHEN nullif(associations_contacts, '') IS NOT NULL THEN 'contacts' END AS person_stream,
    nullif(split_part(associations_contacts, ';', 1), '') AS person_source_id,
    CASE WHEN nullif(associations_companies, '') IS NOT NULL THEN 'companies' END AS company_stream,
    nullif(split_part(associations_companies, ';', 1), '') AS company_source_id,
    coalesce(try_cast(createdate AS TIMESTAMPTZ), try_cast(created_at AS TIMESTAMPTZ)) AS created_at,
    coalesce(try_cast(updated_at AS TIMESTAMPTZ), try_cast(hs_lastmodifieddate AS TIMESTAMPTZ)) AS updated_at
FROM raw_hubspot.deals
WHERE NOT coalesce(archived, false)
