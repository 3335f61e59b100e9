-- materialized: table
-- description: Open Salesforce leads to copy to HubSpot as contacts in lifecycle stage 'lead': one per email (the lead edited last), only those with an email and a last name. The sync only inserts: an email HubSpot already has (a contact, or a lead copied before) is left as it is.
SELECT lead_id, email, first_name, last_name, company_name, 'lead' AS lifecycle_stage
FROM (
    SELECT source_id AS lead_id, lower(email) AS email, first_name, last_name, company_name,
           row_number() OVER (PARTITION BY lower(email) ORDER BY updated_at DESC NULLS LAST, source_id) AS n
    FROM staging.salesforce_lead
    WHERE NOT converted AND email IS NOT NULL AND email LIKE '%_@_%._%' AND last_name IS NOT NULL
)
WHERE n = 1
