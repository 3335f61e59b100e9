-- materialized: view
-- description: Zendesk tickets whose requester has no Salesforce Contact: not sent as Cases (the example skips them rather than create contacts on the support desk's word); the requester's email says who they are.
SELECT
    t.ticket_id,
    t.source_id AS zendesk_ticket_id,
    t.subject,
    t.status,
    t.person_id,
    t.email
FROM canonical.ticket AS t
WHERE t.connection = 'zendesk'
  AND NOT EXISTS (
      SELECT 1 FROM canonical.person_source AS s
      WHERE s.person_id = t.person_id AND s.connection = 'salesforce' AND s.stream = 'Contact')
