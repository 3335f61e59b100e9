-- materialized: table
-- description: How a Salesforce opportunity stage and a HubSpot deal stage (default pipeline) correspond. Salesforce has more stages: each maps to one HubSpot stage, and each HubSpot stage maps back to the first Salesforce stage of its group.
SELECT * FROM (VALUES
    ('Prospecting', 'appointmentscheduled', true),
    ('Qualification', 'qualifiedtobuy', true),
    ('Needs Analysis', 'qualifiedtobuy', false),
    ('Value Proposition', 'presentationscheduled', true),
    ('Id. Decision Makers', 'decisionmakerboughtin', true),
    ('Perception Analysis', 'decisionmakerboughtin', false),
    ('Proposal/Price Quote', 'contractsent', true),
    ('Negotiation/Review', 'contractsent', false),
    ('Closed Won', 'closedwon', true),
    ('Closed Lost', 'closedlost', true)
) AS t(salesforce_stage, hubspot_stage, hubspot_default)
