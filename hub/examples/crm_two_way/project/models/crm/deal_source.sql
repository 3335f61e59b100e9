-- materialized: table
-- description: Every Salesforce opportunity and HubSpot deal, with the deal it belongs to (stage: the record's own stage in its CRM; salesforce_stage: that stage in Salesforce's terms). A record the hub created carries the deal's id in its Hub Deal Id field (Hub_Deal_Id__c / hub_deal_id), so it joins the deal it was made for instead of starting a new one; a record made in its CRM starts its own deal, '<connection>:<its id>'. The reverse-ETL engine reads this table to update each deal's own records by id.
SELECT
    coalesce(nullif(trim(o.hub_deal_id__c), ''), 'salesforce:' || o.id) AS deal_id,
    'salesforce' AS connection,
    'Opportunity' AS stream,
    o.id AS source_id,
    nullif(trim(o.name), '') AS name,
    try_cast(o.amount AS DOUBLE) AS amount,
    nullif(trim(o.stage_name), '') AS salesforce_stage,
    nullif(trim(o.stage_name), '') AS stage,
    try_cast(o.close_date AS DATE) AS close_date,
    CAST(NULL AS VARCHAR) AS closedate_text,
    coalesce(try_cast(o.last_modified_date AS TIMESTAMPTZ), try_cast(o.system_modstamp AS TIMESTAMPTZ)) AS updated_at
FROM raw_salesforce.opportunity AS o
WHERE NOT coalesce(o.is_deleted, false)
UNION ALL
SELECT
    coalesce(nullif(trim(d.hub_deal_id), ''), 'hubspot:' || d.id) AS deal_id,
    'hubspot' AS connection,
    'deals' AS stream,
    CAST(d.id AS VARCHAR) AS source_id,
    nullif(trim(d.dealname), '') AS name,
    try_cast(d.amount AS DOUBLE) AS amount,
    s.salesforce_stage,
    nullif(trim(d.dealstage), '') AS stage,
    CAST(timezone('UTC', try_cast(d.closedate AS TIMESTAMPTZ)) AS DATE) AS close_date,
    nullif(trim(d.closedate), '') AS closedate_text,
    coalesce(try_cast(d.hs_lastmodifieddate AS TIMESTAMPTZ), try_cast(d.updated_at AS TIMESTAMPTZ)) AS updated_at
FROM raw_hubspot.deals AS d
LEFT JOIN crm.deal_stage AS s ON s.hubspot_stage = d.dealstage AND s.hubspot_default
WHERE NOT coalesce(d.archived, false)
