-- materialized: view
-- entity: lead
-- description: The website's contact form posts (raw_website.contact), one lead record each, named like every lead.
SELECT
    id AS source_id,
    lower(nullif(trim(email), '')) AS email,
    nullif(trim(first_name), '') AS first_name,
    nullif(trim(last_name), '') AS last_name,
    nullif(trim(phone), '') AS phone,
    nullif(trim(company), '') AS company_name,
    'Web' AS lead_source,
    try_cast(submitted_at AS TIMESTAMPTZ) AS created_at,
    try_cast(submitted_at AS TIMESTAMPTZ) AS updated_at
FROM raw_website.contact
