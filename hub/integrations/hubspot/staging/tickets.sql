-- materialized: view
-- description: HubSpot tickets of one connection (archived ones dropped), named like the ticket entity's records.
-- entity: ticket
-- (its column contract; the requester is the ticket's associated contact)
SELECT
    id AS source_id,
    nullif(trim(subject), '') AS subject,
    -- the default support pipeline's stage ids; another pipeline's stages keep their ids
    CASE WHEN coalesce(hs_pipeline, '0') = '0' THEN
        CASE hs_pipeline_stage WHEN '1' THEN 'new' WHEN '2' THEN 'waiting on contact' WHEN '3' THEN 'waiting on us'
                               WHEN '4' THEN 'closed' ELSE hs_pipeline_stage END
        ELSE hs_pipeline_stage END AS status,
    lower(nullif(trim(hs_ticket_priority), '')) AS priority,
    CAST(NULL AS VARCHAR) AS email,
    CASE WHEN nullif(associations_contacts, '') IS NOT NULL THEN 'contacts' END AS person_stream,
    nullif(split_part(associations_contacts, ';', 1), '') AS person_source_id,
    CASE WHEN nullif(associations_companies, '') IS NOT NULL THEN 'companies' END AS company_stream,
    nullif(split_part(associations_companies, ';', 1), '') AS company_source_id,
    coalesce(try_cast(createdate AS TIMESTAMPTZ), try_cast(created_at AS TIMESTAMPTZ)) AS created_at,
    coalesce(try_cast(updated_at AS TIMESTAMPTZ), try_cast(hs_lastmodifieddate AS TIMESTAMPTZ)) AS updated_at
FROM raw_hubspot.tickets
WHERE NOT coalesce(archived, false)
