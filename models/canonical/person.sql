-- materialized: incremental
-- unique_key: person_id
-- changes: _hub.person_changes
-- audit: unique(person_id)
-- audit: not_null(person_id)
-- description: One row per person, merged across every connection; each field from its best source.
-- Survivorship per field (_hub.survivor_key): a valid value before an invalid one, then the source that
-- [models.person] priority ranks first, then the latest change of that very field (`<field>_changed_at` in the
-- identity map): an edit to one field does not carry the record's other fields along, and the hub's own writes
-- read back are not edits. Invalid emails and phones stay visible, flagged *_is_valid = false. Built
-- incrementally: only persons whose records changed are recomputed.
SELECT
    i.person_id,
    arg_max(i.email, _hub.survivor_key(i.email_is_valid, p.email_rank, i.email_changed_at, i.source_id))
        FILTER (WHERE i.email IS NOT NULL) AS email,
    bool_or(i.email_is_valid) AS email_is_valid,
    arg_max(i.first_name, _hub.survivor_key(true, p.first_name_rank, i.first_name_changed_at, i.source_id))
        FILTER (WHERE i.first_name IS NOT NULL) AS first_name,
    arg_max(i.last_name, _hub.survivor_key(true, p.last_name_rank, i.last_name_changed_at, i.source_id))
        FILTER (WHERE i.last_name IS NOT NULL) AS last_name,
    arg_max(i.phone, _hub.survivor_key(i.phone_is_valid, p.phone_rank, i.phone_changed_at, i.source_id))
        FILTER (WHERE i.phone IS NOT NULL) AS phone,
    bool_or(i.phone_is_valid) AS phone_is_valid,
    arg_max(i.mobile_phone, _hub.survivor_key(
        i.mobile_phone_is_valid, p.mobile_phone_rank, i.mobile_phone_changed_at, i.source_id))
        FILTER (WHERE i.mobile_phone IS NOT NULL) AS mobile_phone,
    -- The company a record links to (a CRM account, a marketing tool's company) names it better than free text.
    arg_max(coalesce(c.name, i.company_name), _hub.survivor_key(
        true, p.company_name_rank, i.company_name_changed_at, i.source_id))
        FILTER (WHERE coalesce(c.name, i.company_name) IS NOT NULL) AS company_name,
    arg_max(c.company_id, _hub.survivor_key(true, 0, i.company_name_changed_at, i.source_id))
        FILTER (WHERE c.company_id IS NOT NULL) AS company_id,
    arg_max(i.job_title, _hub.survivor_key(true, p.job_title_rank, i.job_title_changed_at, i.source_id))
        FILTER (WHERE i.job_title IS NOT NULL) AS job_title,
    arg_max(i.city, _hub.survivor_key(true, p.city_rank, i.city_changed_at, i.source_id))
        FILTER (WHERE i.city IS NOT NULL) AS city,
    arg_max(i.country, _hub.survivor_key(true, p.country_rank, i.country_changed_at, i.source_id))
        FILTER (WHERE i.country IS NOT NULL) AS country,
    arg_max(i.lifecycle_stage, _hub.survivor_key(
        true, p.lifecycle_stage_rank, i.lifecycle_stage_changed_at, i.source_id))
        FILTER (WHERE i.lifecycle_stage IS NOT NULL) AS lifecycle_stage,
    arg_max(i.lead_source, _hub.survivor_key(true, p.lead_source_rank, i.lead_source_changed_at, i.source_id))
        FILTER (WHERE i.lead_source IS NOT NULL) AS lead_source,
    count(*) AS source_count,
    min(coalesce(i.created_at, i.updated_at)) AS first_seen_at,
    max(i.updated_at) AS updated_at
FROM _hub.person_identity AS i
JOIN _hub.person_priority AS p ON p.connection = i.connection
LEFT JOIN _hub.company_identity AS ci
    ON ci.connection = i.connection AND ci.stream = i.company_stream AND ci.source_id = i.company_source_id
LEFT JOIN canonical.company AS c ON c.company_id = ci.company_id
GROUP BY i.person_id
