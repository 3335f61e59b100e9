-- needs hub's SQL helper _hub.survivor_key() in the target warehouse (see hub/modeling/materialize.py)
/* materialized: incremental */
/* unique_key: person_id */
/* changes: _hub.person_changes */
/* audit: unique(person_id) */
/* audit: not_null(person_id) */
/* description: One row per person, merged across every connection; each field from its best source. */
/* Survivorship per field (_hub.survivor_key): a valid value before an invalid one, then the source that */
/* [models.person] priority ranks first, then the latest change of that very field (`<field>_changed_at` in the */
/* identity map): an edit to one field does not carry the record's other fields along, and the hub's own writes */
/* read back are not edits. Invalid emails and phones stay visible, flagged *_is_valid = false. Built */
/* incrementally: only persons whose records changed are recomputed. */
SELECT
  i.person_id,
  ARG_MAX(
    i.email,
    _hub.survivor_key(i.email_is_valid, p.email_rank, i.email_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.email IS NULL) AS email,
  BOOL_OR(i.email_is_valid) AS email_is_valid,
  ARG_MAX(
    i.first_name,
    _hub.survivor_key(TRUE, p.first_name_rank, i.first_name_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.first_name IS NULL) AS first_name,
  ARG_MAX(
    i.last_name,
    _hub.survivor_key(TRUE, p.last_name_rank, i.last_name_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.last_name IS NULL) AS last_name,
  ARG_MAX(
    i.phone,
    _hub.survivor_key(i.phone_is_valid, p.phone_rank, i.phone_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.phone IS NULL) AS phone,
  BOOL_OR(i.phone_is_valid) AS phone_is_valid,
  ARG_MAX(
    i.mobile_phone,
    _hub.survivor_key(i.mobile_phone_is_valid, p.mobile_phone_rank, i.mobile_phone_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.mobile_phone IS NULL) AS mobile_phone,
  ARG_MAX(
    COALESCE(c.name, i.company_name),
    _hub.survivor_key(TRUE, p.company_name_rank, i.company_name_changed_at, i.source_id)
  ) /* The company a record links to (a CRM account, a marketing tool's company) names it better than free text. */ FILTER(WHERE
    NOT COALESCE(c.name, i.company_name) IS NULL) AS company_name,
  ARG_MAX(c.company_id, _hub.survivor_key(TRUE, 0, i.company_name_changed_at, i.source_id)) FILTER(WHERE
    NOT c.company_id IS NULL) AS company_id,
  ARG_MAX(
    i.job_title,
    _hub.survivor_key(TRUE, p.job_title_rank, i.job_title_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.job_title IS NULL) AS job_title,
  ARG_MAX(i.city, _hub.survivor_key(TRUE, p.city_rank, i.city_changed_at, i.source_id)) FILTER(WHERE
    NOT i.city IS NULL) AS city,
  ARG_MAX(
    i.country,
    _hub.survivor_key(TRUE, p.country_rank, i.country_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.country IS NULL) AS country,
  ARG_MAX(
    i.lifecycle_stage,
    _hub.survivor_key(TRUE, p.lifecycle_stage_rank, i.lifecycle_stage_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.lifecycle_stage IS NULL) AS lifecycle_stage,
  ARG_MAX(
    i.lead_source,
    _hub.survivor_key(TRUE, p.lead_source_rank, i.lead_source_changed_at, i.source_id)
  ) FILTER(WHERE
    NOT i.lead_source IS NULL) AS lead_source,
  COUNT(*) AS source_count,
  MIN(COALESCE(i.created_at, i.updated_at)) AS first_seen_at,
  MAX(i.updated_at) AS updated_at
FROM _hub.person_identity AS i
JOIN _hub.person_priority AS p
  ON p.connection = i.connection
LEFT JOIN _hub.company_identity AS ci
  ON ci.connection = i.connection
  AND ci.stream = i.company_stream
  AND ci.source_id = i.company_source_id
LEFT JOIN canonical.company AS c
  ON c.company_id = ci.company_id
GROUP BY
  i.person_id
