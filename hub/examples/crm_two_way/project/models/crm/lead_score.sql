-- materialized: table
-- description: Each person's HubSpot score (hubspotscore, from their HubSpot contact edited last) to copy to their Salesforce contact's Lead_Score__c.
SELECT person_id, email, lead_score
FROM (
    SELECT ps.person_id, p.email, c.lead_score,
           row_number() OVER (PARTITION BY ps.person_id ORDER BY c.updated_at DESC NULLS LAST, c.source_id) AS n
    FROM canonical.person_source AS ps
    JOIN staging.hubspot_contacts AS c ON c.source_id = ps.source_id
    JOIN canonical.person AS p ON p.person_id = ps.person_id
    WHERE ps.connection = 'hubspot' AND c.lead_score IS NOT NULL
)
WHERE n = 1
