-- materialized: table
-- audit: unique(lead_id)
-- audit: unique(email)
-- description: Form posts to send to Salesforce as Leads: one per email (its first post), only for emails that are not already a Salesforce Contact or Lead.
WITH posted AS (
    SELECT
        lead_id, email, first_name, last_name, phone, company_name, lead_source, created_at,
        row_number() OVER (PARTITION BY email ORDER BY created_at, source_id) AS nth
    FROM canonical.lead
    WHERE connection = 'form_leads' AND email IS NOT NULL
),
known AS (
    SELECT email FROM canonical.lead WHERE connection = 'salesforce' AND email IS NOT NULL
    UNION
    SELECT lower(trim(email)) FROM canonical.person_source WHERE connection = 'salesforce' AND email IS NOT NULL
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
