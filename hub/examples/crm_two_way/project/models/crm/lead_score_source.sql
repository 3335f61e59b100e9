-- materialized: view
-- description: The Salesforce contacts of each person (the lead_score sync updates these records by id).
SELECT person_id, connection, stream, source_id, source_updated_at AS updated_at
FROM canonical.person_source
WHERE connection = 'salesforce' AND stream = 'Contact'
