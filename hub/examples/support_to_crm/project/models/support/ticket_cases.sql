-- materialized: table
-- audit: unique(ticket_id)
-- audit: not_null(contact_id)
-- description: Each Zendesk ticket as the Salesforce Case it becomes: on the Salesforce Contact of the ticket's requester (the same person in canonical.person_source), with Zendesk's status and priority in Salesforce's picklist values. Tickets whose requester has no Salesforce Contact are left out (support.tickets_without_contact).
WITH contact AS (
    -- a person with several Salesforce contacts: the most recently modified one (ties: the lowest id)
    SELECT person_id, first(source_id ORDER BY source_updated_at DESC NULLS LAST, source_id) AS contact_id
    FROM canonical.person_source
    WHERE connection = 'salesforce' AND stream = 'Contact'
    GROUP BY person_id
)
SELECT
    t.ticket_id,
    c.contact_id,
    t.source_id AS zendesk_ticket_id,
    coalesce(t.subject, '(no subject)') AS subject,
    CASE lower(t.status)
        WHEN 'new' THEN 'New'
        WHEN 'open' THEN 'Working'
        WHEN 'pending' THEN 'Working'
        WHEN 'hold' THEN 'Escalated'
        WHEN 'solved' THEN 'Closed'
        WHEN 'closed' THEN 'Closed'
        ELSE 'New'
    END AS case_status,
    CASE lower(t.priority)
        WHEN 'urgent' THEN 'High'
        WHEN 'high' THEN 'High'
        WHEN 'low' THEN 'Low'
        ELSE 'Medium'
    END AS case_priority,
    'Web' AS origin,
    t.person_id,
    t.email,
    t.updated_at
FROM canonical.ticket AS t
JOIN contact AS c ON c.person_id = t.person_id
WHERE t.connection = 'zendesk'
