-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* description: HubSpot deals of one connection (archived ones dropped), named like the deal entity's records. */
/* entity: deal */
/* (its column contract; the person and company are the deal's associated contact and primary company) */
SELECT
  id AS source_id,
  NULLIF(TRIM(dealname), '') AS name,
  NULLIF(TRIM(dealstage), '') AS stage,
  COALESCE(
    CASE
      WHEN CAST(hs_is_closed AS TEXT) ~* '^(t|f|true|false|y|n|yes|no|1|0)$'
      THEN CAST(hs_is_closed AS BOOLEAN)
    END,
    FALSE
  ) AS is_closed,
  COALESCE(
    CASE
      WHEN CAST(hs_is_closed_won AS TEXT) ~* '^(t|f|true|false|y|n|yes|no|1|0)$'
      THEN CAST(hs_is_closed_won AS BOOLEAN)
    END,
    FALSE
  ) AS is_won,
  CASE
    WHEN CAST(amount AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(amount AS DECIMAL(18, 2))
  END AS amount,
  UPPER(NULLIF(TRIM(deal_currency_code), '')) AS currency,
  CAST(CASE
    WHEN CAST(closedate AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(closedate AS TIMESTAMPTZ)
  END AS DATE) AS close_date,
  CASE WHEN NOT NULLIF(associations_contacts, '') IS NULL THEN 'contacts' END AS person_stream,
  NULLIF(SPLIT_PART(associations_contacts, ';', 1), '') AS person_source_id,
  CASE WHEN NOT NULLIF(associations_companies, '') IS NULL THEN 'companies' END AS company_stream,
  NULLIF(SPLIT_PART(associations_companies, ';', 1), '') AS company_source_id,
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
      WHEN CAST(hs_lastmodifieddate AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(hs_lastmodifieddate AS TIMESTAMPTZ)
    END
  ) AS updated_at
FROM raw_hubspot.deals
WHERE
  NOT COALESCE(archived, FALSE)
