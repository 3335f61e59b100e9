-- materialized: incremental
-- unique_key: company_id
-- changes: _hub.company_changes
-- audit: unique(company_id)
-- audit: not_null(company_id)
-- description: One row per company, merged across every connection; each field from its best source.
-- Survivorship per field (_hub.survivor_key): a valid value before an invalid one, then the source that
-- [models.company] priority ranks first, then the latest change of that very field (`<field>_changed_at` in the
-- identity map): an edit to one field does not carry the record's other fields along, and the hub's own writes
-- read back are not edits. Built incrementally: only companies whose records changed are recomputed.
SELECT
    i.company_id,
    arg_max(i.name, _hub.survivor_key(true, p.name_rank, i.name_changed_at, i.source_id))
        FILTER (WHERE i.name IS NOT NULL) AS name,
    arg_max(i.domain, _hub.survivor_key(i.domain_is_valid, p.domain_rank, i.domain_changed_at, i.source_id))
        FILTER (WHERE i.domain IS NOT NULL) AS domain,
    bool_or(i.domain_is_valid) AS domain_is_valid,
    arg_max(i.phone, _hub.survivor_key(i.phone_is_valid, p.phone_rank, i.phone_changed_at, i.source_id))
        FILTER (WHERE i.phone IS NOT NULL) AS phone,
    bool_or(i.phone_is_valid) AS phone_is_valid,
    arg_max(i.industry, _hub.survivor_key(true, p.industry_rank, i.industry_changed_at, i.source_id))
        FILTER (WHERE i.industry IS NOT NULL) AS industry,
    arg_max(i.city, _hub.survivor_key(true, p.city_rank, i.city_changed_at, i.source_id))
        FILTER (WHERE i.city IS NOT NULL) AS city,
    arg_max(i.country, _hub.survivor_key(true, p.country_rank, i.country_changed_at, i.source_id))
        FILTER (WHERE i.country IS NOT NULL) AS country,
    arg_max(i.employee_count, _hub.survivor_key(true, p.employee_count_rank, i.employee_count_changed_at, i.source_id))
        FILTER (WHERE i.employee_count IS NOT NULL) AS employee_count,
    arg_max(i.annual_revenue, _hub.survivor_key(true, p.annual_revenue_rank, i.annual_revenue_changed_at, i.source_id))
        FILTER (WHERE i.annual_revenue IS NOT NULL) AS annual_revenue,
    count(*) AS source_count,
    min(coalesce(i.created_at, i.updated_at)) AS first_seen_at,
    max(i.updated_at) AS updated_at
FROM _hub.company_identity AS i
JOIN _hub.company_priority AS p ON p.connection = i.connection
GROUP BY i.company_id
