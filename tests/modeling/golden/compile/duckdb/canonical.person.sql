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
    (
      (
        CAST(COALESCE(i.email_is_valid, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.email_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.email_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.email IS NULL) AS email,
  BOOL_OR(CAST(i.email_is_valid AS BOOLEAN)) AS email_is_valid,
  ARG_MAX(
    i.first_name,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.first_name_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.first_name_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.first_name IS NULL) AS first_name,
  ARG_MAX(
    i.last_name,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.last_name_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.last_name_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.last_name IS NULL) AS last_name,
  ARG_MAX(
    i.phone,
    (
      (
        CAST(COALESCE(i.phone_is_valid, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.phone_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.phone_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.phone IS NULL) AS phone,
  BOOL_OR(CAST(i.phone_is_valid AS BOOLEAN)) AS phone_is_valid,
  ARG_MAX(
    i.mobile_phone,
    (
      (
        CAST(COALESCE(i.mobile_phone_is_valid, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.mobile_phone_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.mobile_phone_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.mobile_phone IS NULL) AS mobile_phone,
  ARG_MAX(
    COALESCE(c.name, i.company_name),
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.company_name_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.company_name_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) /* The company a record links to (a CRM account, a marketing tool's company) names it better than free text. */ FILTER(WHERE
    NOT COALESCE(c.name, i.company_name) IS NULL) AS company_name,
  ARG_MAX(
    c.company_id,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(0, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.company_name_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT c.company_id IS NULL) AS company_id,
  ARG_MAX(
    i.job_title,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.job_title_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.job_title_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.job_title IS NULL) AS job_title,
  ARG_MAX(
    i.city,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.city_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.city_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.city IS NULL) AS city,
  ARG_MAX(
    i.country,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.country_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.country_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.country IS NULL) AS country,
  ARG_MAX(
    i.lifecycle_stage,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.lifecycle_stage_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.lifecycle_stage_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.lifecycle_stage IS NULL) AS lifecycle_stage,
  ARG_MAX(
    i.lead_source,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.lead_source_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.lead_source_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
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
