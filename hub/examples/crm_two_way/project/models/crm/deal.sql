-- materialized: table
-- audit: unique(deal_id)
-- description: One row per deal, kept in both CRMs (Salesforce Opportunity <-> HubSpot deal). Field by field: where both records agree that value stays; where they differ, the record edited last wins. Stages agree when the Salesforce stage maps to the HubSpot one, so a Salesforce-only stage (Needs Analysis) is not overwritten by its coarser HubSpot twin.
WITH sf AS (SELECT * FROM crm.deal_source WHERE connection = 'salesforce'),
hs AS (SELECT * FROM crm.deal_source WHERE connection = 'hubspot'),
pair AS (
    SELECT coalesce(sf.deal_id, hs.deal_id) AS deal_id, sf.source_id AS sf_id, hs.source_id AS hs_id,
           -- which side wins a field the two records disagree on: the one edited last (a lone record: itself)
           hs.source_id IS NOT NULL AND (sf.source_id IS NULL OR hs.updated_at > sf.updated_at) AS hubspot_last,
           sf.name AS sf_name, hs.name AS hs_name, sf.amount AS sf_amount, hs.amount AS hs_amount,
           sf.salesforce_stage AS sf_stage, hs.salesforce_stage AS hs_stage, sf.close_date AS sf_close,
           hs.close_date AS hs_close, hs.closedate_text AS hs_close_text
    FROM sf FULL OUTER JOIN hs ON hs.deal_id = sf.deal_id
),
decided AS (
    SELECT deal_id, hs_close, hs_close_text,
        CASE WHEN sf_id IS NULL OR (hubspot_last AND sf_name IS DISTINCT FROM hs_name) THEN hs_name ELSE sf_name END
            AS name,
        CASE WHEN sf_id IS NULL OR (hubspot_last AND sf_amount IS DISTINCT FROM hs_amount) THEN hs_amount
             ELSE sf_amount END AS amount,
        CASE WHEN sf_id IS NULL THEN hs_stage
             WHEN hs_id IS NULL THEN sf_stage
             WHEN (SELECT hubspot_stage FROM crm.deal_stage WHERE salesforce_stage = sf_stage)
                  IS NOT DISTINCT FROM (SELECT hubspot_stage FROM crm.deal_stage WHERE salesforce_stage = hs_stage)
                  THEN sf_stage
             WHEN hubspot_last THEN hs_stage ELSE sf_stage END AS stage_salesforce,
        CASE WHEN sf_id IS NULL OR (hubspot_last AND sf_close IS DISTINCT FROM hs_close) THEN hs_close
             ELSE sf_close END AS close_date
    FROM pair
)
SELECT
    d.deal_id,
    d.name,
    d.amount,
    d.stage_salesforce,
    s.hubspot_stage AS stage_hubspot,
    d.close_date,
    -- HubSpot's closedate is a datetime: keep the deal's own value while its day is the deal's, else midnight UTC
    CASE WHEN d.hs_close IS NOT DISTINCT FROM d.close_date AND d.hs_close_text IS NOT NULL THEN d.hs_close_text
         WHEN d.close_date IS NOT NULL THEN strftime(d.close_date, '%Y-%m-%dT00:00:00.000Z') END AS close_at,
    'default' AS pipeline
FROM decided AS d
LEFT JOIN crm.deal_stage AS s ON s.salesforce_stage = d.stage_salesforce
