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
  ARG_MAX(
    i.name,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.name_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.name_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.name IS NULL) AS name,
  ARG_MAX(
    i.domain,
    (
      (
        CAST(COALESCE(i.domain_is_valid, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.domain_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.domain_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.domain IS NULL) AS domain,
  BOOL_OR(CAST(i.domain_is_valid AS BOOLEAN)) AS domain_is_valid,
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
    i.industry,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.industry_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.industry_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.industry IS NULL) AS industry,
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
    i.employee_count,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.employee_count_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.employee_count_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
  ) FILTER(WHERE
    NOT i.employee_count IS NULL) AS employee_count,
  ARG_MAX(
    i.annual_revenue,
    (
      (
        CAST(COALESCE(TRUE, FALSE) AS BIGINT) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.annual_revenue_rank, 0), 0), 15) AS BIGINT) << 58
      ) + (
        CAST(LEAST(
          GREATEST(COALESCE(EPOCH(CAST(i.annual_revenue_changed_at AS TIMESTAMPTZ)), 0), 0),
          8589934591
        ) AS BIGINT) << 25
      ) + CAST(HASH(i.source_id) & 33554431 AS BIGINT)
    )
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
