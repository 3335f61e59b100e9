-- materialized: table
-- audit: unique(chat_id)
-- description: The chats of marts.chat_tasks whose email Salesforce does not know yet but hub makes a Lead of (marts.new_leads): new_lead is that row's lead_id, which the sync sends as the Id of the Lead it made.
SELECT t.chat_id, t.email, t.subject, t.description, t.status, t.activity_date, n.lead_id AS new_lead
FROM marts.chat_tasks AS t
JOIN marts.new_leads AS n ON n.email = t.email
WHERE t.who_id IS NULL
