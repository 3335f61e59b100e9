-- materialized: table
-- audit: unique(organization_id)
-- description: The Salesforce account tier of each Zendesk organization, matched through canonical.company (the organization and the account are records of one company). A company with several tiered accounts takes the most recently modified account's tier.
WITH account_tier AS (
    SELECT cs.company_id,
           first(a.tier__c ORDER BY cs.source_updated_at DESC NULLS LAST, cs.source_id) AS tier
    FROM canonical.company_source AS cs
    JOIN raw_salesforce.account AS a ON a.id = cs.source_id
    WHERE cs.connection = 'salesforce' AND cs.stream = 'Account'
      AND NOT coalesce(a.is_deleted, false) AND nullif(trim(a.tier__c), '') IS NOT NULL
    GROUP BY cs.company_id
)
SELECT
    o.source_id AS organization_id,
    o.name AS organization_name,
    o.external_id AS organization_external_id,
    cs.company_id,
    t.tier
FROM staging.zendesk_organizations AS o
JOIN canonical.company_source AS cs
    ON cs.connection = 'zendesk' AND cs.stream = 'organizations' AND cs.source_id = o.source_id
JOIN account_tier AS t ON t.company_id = cs.company_id
