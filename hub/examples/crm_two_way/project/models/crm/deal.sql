-- materialized: table
-- audit: unique(deal_id)
-- description: One row per deal, kept in both CRMs (Salesforce Opportunity <-> HubSpot deal), decided field by field from what the hub last synced to each record (_hub.synced): a field edited in one CRM since then takes that edit, whatever the other record did to its other fields; edited in both, the later edit wins (the push records the conflict); edited in neither, each keeps the value both were sent, and a Salesforce-only stage (Needs Analysis) stands against its coarser HubSpot twin.
WITH side AS (
    SELECT d.*, s.fresh,
        -- the value the hub last synced to this record, in the record's own terms (NULL: never synced)
        s.synced->>'name' AS synced_name,
        try_cast(s.synced->>'amount' AS DOUBLE) AS synced_amount,
        CASE d.connection WHEN 'salesforce' THEN s.synced->>'stage_salesforce' ELSE s.synced->>'stage_hubspot' END
            AS synced_stage,
        CASE d.connection WHEN 'salesforce' THEN try_cast(s.synced->>'close_date' AS DATE)
             ELSE CAST(timezone('UTC', try_cast(s.synced->>'close_at' AS TIMESTAMPTZ)) AS DATE) END AS synced_close
    FROM crm.deal_source AS d
    LEFT JOIN _hub.synced AS s ON s.model = 'crm.deal' AND s.connection = d.connection AND s.key = d.deal_id
),
fields AS (
    SELECT deal_id, connection, source_id, updated_at,
        CASE WHEN fresh IS DISTINCT FROM false THEN closedate_text END AS closedate_text,
        _hub.edited(fresh, name, synced_name) AS name_edited,
        _hub.held(fresh, name, synced_name) AS name,
        _hub.edited(fresh, amount, synced_amount) AS amount_edited,
        _hub.held(fresh, amount, synced_amount) AS amount,
        _hub.edited(fresh, stage, synced_stage) AS stage_edited,
        -- a HubSpot stage in Salesforce's terms: the first Salesforce stage of its group
        CASE connection WHEN 'salesforce' THEN _hub.held(fresh, stage, synced_stage)
             ELSE (SELECT m.salesforce_stage FROM crm.deal_stage AS m
                   WHERE m.hubspot_default AND m.hubspot_stage = _hub.held(fresh, stage, synced_stage)) END
            AS salesforce_stage,
        CASE connection WHEN 'salesforce' THEN 0 ELSE 1 END AS stage_standing,
        _hub.edited(fresh, close_date, synced_close) AS close_edited,
        _hub.held(fresh, close_date, synced_close) AS close_date
    FROM side
),
decided AS (
    SELECT
        deal_id,
        arg_max_null(name, _hub.two_way_key(name_edited, 0, updated_at, source_id)) AS name,
        arg_max_null(amount, _hub.two_way_key(amount_edited, 0, updated_at, source_id)) AS amount,
        arg_max_null(salesforce_stage, _hub.two_way_key(stage_edited, stage_standing, updated_at, source_id))
            AS stage_salesforce,
        arg_max_null(close_date, _hub.two_way_key(close_edited, 0, updated_at, source_id)) AS close_date,
        max(close_date) FILTER (WHERE connection = 'hubspot') AS hs_close,
        max(closedate_text) FILTER (WHERE connection = 'hubspot') AS hs_close_text
    FROM fields
    GROUP BY deal_id
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
