-- materialized: table
-- description: The records of every lead kept in both CRMs, one row per record: each open Salesforce Lead and each HubSpot contact of the lead's email (lead_id: the lower-cased email). An email is a lead while Salesforce has it as an open Lead or not at all (no Contact, no converted Lead: converting it hands the person to person_to_salesforce), and every HubSpot contact of it is in a lead stage (lead, marketingqualifiedlead, salesqualifiedlead); a HubSpot contact further on (opportunity, customer, ...) or a Salesforce Contact keeps the person in the person syncs. A HubSpot contact's phone is the one the person sync writes to it (E.164 when valid, canonical.person_source). The reverse-ETL engine reads this table to update each lead's own records by id.
WITH sf AS (
    SELECT lower(email) AS email, source_id, first_name, last_name, phone, company_name, converted, updated_at
    FROM staging.salesforce_lead
    WHERE email LIKE '%_@_%._%'
),
hs AS (
    -- the phone as the person sync writes it to the contact (canonical.person_source: E.164 when valid), so the two
    -- syncs of a HubSpot contact never disagree about its phone
    SELECT lower(c.email) AS email, CAST(c.source_id AS VARCHAR) AS source_id, c.first_name, c.last_name,
           coalesce(ps.phone, c.phone) AS phone, c.company_name, c.lifecycle_stage, c.updated_at
    FROM staging.hubspot_contacts AS c
    LEFT JOIN canonical.person_source AS ps
           ON ps.connection = 'hubspot' AND ps.stream = 'contacts' AND ps.source_id = CAST(c.source_id AS VARCHAR)
    WHERE c.email LIKE '%_@_%._%'
),
leads AS (
    SELECT email FROM sf WHERE NOT converted
    UNION
    SELECT email FROM hs WHERE lifecycle_stage IN ('lead', 'marketingqualifiedlead', 'salesqualifiedlead')
    EXCEPT
    SELECT email FROM sf WHERE converted
    EXCEPT
    SELECT lower(email) FROM staging.salesforce_contact WHERE email IS NOT NULL
    EXCEPT
    SELECT email FROM hs
    WHERE lifecycle_stage IS NULL OR lifecycle_stage NOT IN ('lead', 'marketingqualifiedlead', 'salesqualifiedlead')
)
SELECT email AS lead_id, 'salesforce' AS connection, 'Lead' AS stream, source_id, first_name, last_name, phone,
       company_name, CAST(NULL AS VARCHAR) AS lifecycle_stage, updated_at
FROM sf WHERE NOT converted AND email IN (SELECT email FROM leads)
UNION ALL
SELECT email, 'hubspot', 'contacts', source_id, first_name, last_name, phone, company_name,
       lifecycle_stage, updated_at
FROM hs WHERE email IN (SELECT email FROM leads)
