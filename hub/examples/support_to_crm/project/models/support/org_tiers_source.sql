-- materialized: view
-- description: Which Zendesk organization each support.org_tiers row is (the tier sync updates exactly that record).
SELECT organization_id, 'zendesk' AS connection, 'organizations' AS stream, organization_id AS source_id
FROM support.org_tiers
