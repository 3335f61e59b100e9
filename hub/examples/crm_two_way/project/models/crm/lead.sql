-- materialized: table
-- audit: unique(lead_id)
-- description: One row per lead kept in both CRMs (Salesforce open Lead <-> HubSpot contact in a lead stage, paired by email: crm.lead_source), decided field by field like crm.deal from what the hub last synced to each record (_hub.synced): a field edited in one CRM since then takes that edit; edited in both, the later edit wins; edited in neither, Salesforce's value stands (the phone: HubSpot's, the one the person sync writes to the contact, E.164 when valid). A lead only one CRM has is created in the other: a HubSpot contact in lifecycle stage 'lead' (the stage it keeps; the hub never moves a stage), a Salesforce Lead (Company '[not provided]' when the contact names none, as Salesforce requires one).
WITH side AS (
    SELECT l.*, s.fresh,
        -- the value the hub last synced to this record (NULL: never synced)
        s.synced->>'first_name' AS synced_first_name,
        s.synced->>'last_name' AS synced_last_name,
        s.synced->>'phone' AS synced_phone,
        CASE l.connection WHEN 'salesforce' THEN nullif(s.synced->>'company_salesforce', '[not provided]')
             ELSE s.synced->>'company_name' END AS synced_company
    FROM crm.lead_source AS l
    LEFT JOIN _hub.synced AS s ON s.model = 'crm.lead' AND s.connection = l.connection AND s.key = l.lead_id
                              AND s.target_id = l.source_id
),
fields AS (
    SELECT lead_id, connection, source_id, updated_at, lifecycle_stage,
        CASE connection WHEN 'salesforce' THEN 0 ELSE 1 END AS standing,
        -- the phone: HubSpot's stands (the person sync writes it to the contact, normalized; the Lead follows it)
        CASE connection WHEN 'hubspot' THEN 0 ELSE 1 END AS phone_standing,
        _hub.edited(fresh, first_name, synced_first_name) AS first_name_edited,
        _hub.held(fresh, first_name, synced_first_name) AS first_name,
        _hub.edited(fresh, last_name, synced_last_name) AS last_name_edited,
        _hub.held(fresh, last_name, synced_last_name) AS last_name,
        _hub.edited(fresh, phone, synced_phone) AS phone_edited,
        _hub.held(fresh, phone, synced_phone) AS phone,
        _hub.edited(fresh, company_name, synced_company) AS company_edited,
        _hub.held(fresh, company_name, synced_company) AS company_name
    FROM side
)
SELECT
    lead_id,
    lead_id AS email,
    arg_max_null(first_name, _hub.two_way_key(first_name_edited, standing, updated_at, source_id)) AS first_name,
    arg_max_null(last_name, _hub.two_way_key(last_name_edited, standing, updated_at, source_id)) AS last_name,
    arg_max_null(phone, _hub.two_way_key(phone_edited, phone_standing, updated_at, source_id)) AS phone,
    arg_max_null(company_name, _hub.two_way_key(company_edited, standing, updated_at, source_id)) AS company_name,
    coalesce(arg_max_null(company_name, _hub.two_way_key(company_edited, standing, updated_at, source_id)),
             '[not provided]') AS company_salesforce,
    coalesce(arg_max(lifecycle_stage, updated_at) FILTER (WHERE connection = 'hubspot'), 'lead') AS lifecycle_stage
FROM fields
GROUP BY lead_id
