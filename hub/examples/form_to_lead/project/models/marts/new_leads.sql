-- materialized: table
-- audit: unique(lead_id)
-- audit: unique(email)
-- description: Form posts to send to Salesforce as Leads: one per email (its first post), only for emails that are not already a Salesforce Contact or Lead.
-- It reads the staging models, not canonical.lead: deciding whether an email is known needs no identity resolution,
-- so each form post's build is three views and this table (lead_id is the one canonical.lead gives the same post).
WITH posted AS (
    SELECT
        md5(concat_ws('/', 'lead', 'form_leads', 'form_leads', source_id)) AS lead_id,
        email, first_name, last_name, phone, company_name, lead_source, created_at,
        row_number() OVER (PARTITION BY email ORDER BY created_at, source_id) AS nth
    FROM staging.form_leads
    WHERE email IS NOT NULL
),
known AS (
    SELECT lower(trim(email)) AS email FROM staging.salesforce_lead WHERE email IS NOT NULL
    UNION
    SELECT lower(trim(email)) FROM staging.salesforce_contact WHERE email IS NOT NULL
)
SELECT
    lead_id,
    email,
    first_name,
    last_name,
    phone,
    -- Salesforce requires a Lead's Company; its web-to-lead writes this when the form has none
    coalesce(company_name, '[not provided]') AS company,
    lead_source,
    created_at AS submitted_at
FROM posted
WHERE nth = 1 AND email NOT IN (SELECT email FROM known)
