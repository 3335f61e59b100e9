-- materialized: table
-- description: People kept in Salesforce as a lead, not as a contact: every person of a crm.lead email (an open Salesforce Lead, or a HubSpot contact in a lead stage that leads_to_salesforce makes a Lead), plus anyone else Salesforce holds as an open Lead only. person_to_salesforce leaves them out (exclude): in Salesforce a lead becomes a contact when a rep converts it, so a Contact made beside the Lead would be the same person twice (and a third record once the lead is converted). Once the lead is converted, its contact is theirs and the person sync keeps it in line.
SELECT DISTINCT e.person_id
FROM (SELECT lead_id AS email FROM crm.lead
      UNION
      SELECT lower(trim(email)) FROM staging.salesforce_lead WHERE NOT converted) AS l
JOIN canonical.person_by_email AS e ON e.email = l.email
WHERE e.person_id NOT IN (SELECT person_id FROM canonical.person_source
                          WHERE connection = 'salesforce' AND stream = 'Contact')
