-- materialized: table
-- audit: unique(chat_id)
-- description: Each website chat as a completed Salesforce Task: who_id is the Contact with the chatter's email, else the open Lead with it (NULL while Salesforce has neither).
WITH contacts AS (
    SELECT lower(trim(email)) AS email, arg_min(source_id, created_at) AS id
    FROM staging.salesforce_contact WHERE email IS NOT NULL GROUP BY 1
),
leads AS (
    SELECT lower(trim(email)) AS email, arg_min(source_id, created_at) AS id
    FROM staging.salesforce_lead WHERE email IS NOT NULL AND NOT converted GROUP BY 1
)
SELECT
    c.chat_id,
    c.email,
    'Website chat with ' || coalesce(c.name, c.email) AS subject,
    c.transcript AS description,
    'Completed' AS status,
    CAST(timezone('UTC', c.started_at) AS DATE) AS activity_date,
    coalesce(known_contact.id, known_lead.id) AS who_id
FROM staging.form_chats AS c
LEFT JOIN contacts AS known_contact ON known_contact.email = c.email
LEFT JOIN leads AS known_lead ON known_lead.email = c.email
WHERE c.email IS NOT NULL
