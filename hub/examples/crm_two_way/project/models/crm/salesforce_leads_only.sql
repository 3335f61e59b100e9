-- materialized: table
-- description: People Salesforce holds as an open lead and not as a contact. person_to_salesforce leaves them out (exclude): in Salesforce a lead becomes a contact when a rep converts it, so a Contact made beside the open Lead would be the same person twice (and a third record once the lead is converted). Such a person usually reached canonical.person as the HubSpot contact leads_to_hubspot made from the lead. Once the lead is converted, its contact is theirs and the sync keeps it in line.
SELECT DISTINCT e.person_id
FROM staging.salesforce_lead AS l
JOIN canonical.person_by_email AS e ON e.email = lower(trim(l.email))
WHERE NOT l.converted
  AND e.person_id NOT IN (SELECT person_id FROM canonical.person_source
                          WHERE connection = 'salesforce' AND stream = 'Contact')
