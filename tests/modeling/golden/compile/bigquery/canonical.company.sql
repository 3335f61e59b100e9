-- differs: survivorship ties (same validity, rank and second of change) are broken by FARM_FINGERPRINT() of the source id here, by DuckDB's hash() in DuckDB: in such a tie another source's value may win
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
  ARRAY_AGG(
    IF(NOT i.name IS NULL, i.name, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.name_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.name_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.name_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.name_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.name_changed_at AS TIMESTAMP)), 1000000), 2) = 1
                ),
                1,
                0
              ),
              0
            ),
            0
          ),
          8589934591
        ) AS INT64) << 25
      ) + COALESCE(FARM_FINGERPRINT(CAST(i.source_id AS STRING)) & 33554431, 0)
    ) DESC
    LIMIT 1
  )[SAFE_OFFSET(0)] AS name,
  ARRAY_AGG(
    IF(NOT i.domain IS NULL, i.domain, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(i.domain_is_valid, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.domain_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.domain_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.domain_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.domain_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.domain_changed_at AS TIMESTAMP)), 1000000), 2) = 1
                ),
                1,
                0
              ),
              0
            ),
            0
          ),
          8589934591
        ) AS INT64) << 25
      ) + COALESCE(FARM_FINGERPRINT(CAST(i.source_id AS STRING)) & 33554431, 0)
    ) DESC
    LIMIT 1
  )[SAFE_OFFSET(0)] AS domain,
  LOGICAL_OR(i.domain_is_valid) AS domain_is_valid,
  ARRAY_AGG(
    IF(NOT i.phone IS NULL, i.phone, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(i.phone_is_valid, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.phone_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.phone_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.phone_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.phone_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.phone_changed_at AS TIMESTAMP)), 1000000), 2) = 1
                ),
                1,
                0
              ),
              0
            ),
            0
          ),
          8589934591
        ) AS INT64) << 25
      ) + COALESCE(FARM_FINGERPRINT(CAST(i.source_id AS STRING)) & 33554431, 0)
    ) DESC
    LIMIT 1
  )[SAFE_OFFSET(0)] AS phone,
  LOGICAL_OR(i.phone_is_valid) AS phone_is_valid,
  ARRAY_AGG(
    IF(NOT i.industry IS NULL, i.industry, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.industry_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.industry_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.industry_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.industry_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.industry_changed_at AS TIMESTAMP)), 1000000), 2) = 1
                ),
                1,
                0
              ),
              0
            ),
            0
          ),
          8589934591
        ) AS INT64) << 25
      ) + COALESCE(FARM_FINGERPRINT(CAST(i.source_id AS STRING)) & 33554431, 0)
    ) DESC
    LIMIT 1
  )[SAFE_OFFSET(0)] AS industry,
  ARRAY_AGG(
    IF(NOT i.city IS NULL, i.city, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.city_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.city_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.city_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.city_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.city_changed_at AS TIMESTAMP)), 1000000), 2) = 1
                ),
                1,
                0
              ),
              0
            ),
            0
          ),
          8589934591
        ) AS INT64) << 25
      ) + COALESCE(FARM_FINGERPRINT(CAST(i.source_id AS STRING)) & 33554431, 0)
    ) DESC
    LIMIT 1
  )[SAFE_OFFSET(0)] AS city,
  ARRAY_AGG(
    IF(NOT i.country IS NULL, i.country, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.country_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.country_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.country_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.country_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.country_changed_at AS TIMESTAMP)), 1000000), 2) = 1
                ),
                1,
                0
              ),
              0
            ),
            0
          ),
          8589934591
        ) AS INT64) << 25
      ) + COALESCE(FARM_FINGERPRINT(CAST(i.source_id AS STRING)) & 33554431, 0)
    ) DESC
    LIMIT 1
  )[SAFE_OFFSET(0)] AS country,
  ARRAY_AGG(
    IF(NOT i.employee_count IS NULL, i.employee_count, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.employee_count_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.employee_count_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.employee_count_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.employee_count_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.employee_count_changed_at AS TIMESTAMP)), 1000000), 2) = 1
                ),
                1,
                0
              ),
              0
            ),
            0
          ),
          8589934591
        ) AS INT64) << 25
      ) + COALESCE(FARM_FINGERPRINT(CAST(i.source_id AS STRING)) & 33554431, 0)
    ) DESC
    LIMIT 1
  )[SAFE_OFFSET(0)] AS employee_count,
  ARRAY_AGG(
    IF(NOT i.annual_revenue IS NULL, i.annual_revenue, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.annual_revenue_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.annual_revenue_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.annual_revenue_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.annual_revenue_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.annual_revenue_changed_at AS TIMESTAMP)), 1000000), 2) = 1
                ),
                1,
                0
              ),
              0
            ),
            0
          ),
          8589934591
        ) AS INT64) << 25
      ) + COALESCE(FARM_FINGERPRINT(CAST(i.source_id AS STRING)) & 33554431, 0)
    ) DESC
    LIMIT 1
  )[SAFE_OFFSET(0)] AS annual_revenue,
  COUNT(*) AS source_count,
  MIN(COALESCE(i.created_at, i.updated_at)) AS first_seen_at,
  MAX(i.updated_at) AS updated_at
FROM _hub.company_identity AS i
JOIN _hub.company_priority AS p
  ON p.connection = i.connection
GROUP BY
  i.company_id
