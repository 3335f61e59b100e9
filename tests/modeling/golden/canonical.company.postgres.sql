-- needs hub's SQL helper _hub.survivor_key() in the target warehouse (see hub/modeling/materialize.py)
/* materialized: incremental */
/* unique_key: company_id */
/* changes: _hub.company_changes */
/* audit: unique(company_id) */
/* audit: not_null(company_id) */
/* description: One row per company, merged across every connection; each field from its best source. */
/* Survivorship per field (_hub.survivor_key): a valid value before an invalid one, then the source that */
/* [models.company] priority ranks first, then the latest change of that very field (`<field>_changed_at` in the */
/* identity map): an edit to one field does not carry the record's other fields along, and the hub's own writes */
/* read back are not edits. Built incrementally: only companies whose records changed are recomputed. */
SELECT
  i.company_id,
  ARG_MAX(i.name, _hub.survivor_key(TRUE, p.name_rank, i.name_changed_at, i.source_id)) FILTER(WHERE
    NOT i.name IS NULL) AS name,
  ARG_MAX(
    i.domain,
    _hub.survivor_key(i.domain_is_valid, p.domain_rank, i.domain_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.domain IS NULL) AS domain,
  BOOL_OR(i.domain_is_valid) AS domain_is_valid,
  ARG_MAX(
    i.phone,
    _hub.survivor_key(i.phone_is_valid, p.phone_rank, i.phone_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.phone IS NULL) AS phone,
  BOOL_OR(i.phone_is_valid) AS phone_is_valid,
  ARG_MAX(
    i.industry,
    _hub.survivor_key(TRUE, p.industry_rank, i.industry_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.industry IS NULL) AS industry,
  ARG_MAX(i.city, _hub.survivor_key(TRUE, p.city_rank, i.city_changed_at, i.source_id)) FILTER(WHERE
    NOT i.city IS NULL) AS city,
  ARG_MAX(
    i.country,
    _hub.survivor_key(TRUE, p.country_rank, i.country_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.country IS NULL) AS country,
  ARG_MAX(
    i.employee_count,
    _hub.survivor_key(TRUE, p.employee_count_rank, i.employee_count_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.employee_count IS NULL) AS employee_count,
  ARG_MAX(
    i.annual_revenue,
    _hub.survivor_key(TRUE, p.annual_revenue_rank, i.annual_revenue_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.annual_revenue IS NULL) AS annual_revenue,
  COUNT(*) AS source_count,
  MIN(COALESCE(i.created_at, i.updated_at)) AS first_seen_at,
  MAX(i.updated_at) AS updated_at
FROM _hub.company_identity AS i
JOIN _hub.company_priority AS p
  ON p.connection = i.connection
GROUP BY
  i.company_id
