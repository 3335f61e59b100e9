-- differs: survivorship ties (same validity, rank and second of change) are broken by FARM_FINGERPRINT() of the source id here, by DuckDB's hash() in DuckDB: in such a tie another source's value may win
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
  ARRAY_AGG(
    IF(NOT i.email IS NULL, i.email, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(i.email_is_valid, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.email_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.email_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.email_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.email_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.email_changed_at AS TIMESTAMP)), 1000000), 2) = 1
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
  )[SAFE_OFFSET(0)] AS email,
  LOGICAL_OR(i.email_is_valid) AS email_is_valid,
  ARRAY_AGG(
    IF(NOT i.first_name IS NULL, i.first_name, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.first_name_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.first_name_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.first_name_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.first_name_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.first_name_changed_at AS TIMESTAMP)), 1000000), 2) = 1
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
  )[SAFE_OFFSET(0)] AS first_name,
  ARRAY_AGG(
    IF(NOT i.last_name IS NULL, i.last_name, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.last_name_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.last_name_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.last_name_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.last_name_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.last_name_changed_at AS TIMESTAMP)), 1000000), 2) = 1
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
  )[SAFE_OFFSET(0)] AS last_name,
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
    IF(NOT i.mobile_phone IS NULL, i.mobile_phone, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(i.mobile_phone_is_valid, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.mobile_phone_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.mobile_phone_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.mobile_phone_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.mobile_phone_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.mobile_phone_changed_at AS TIMESTAMP)), 1000000), 2) = 1
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
  )[SAFE_OFFSET(0)] AS mobile_phone,
  ARRAY_AGG(
    IF(NOT COALESCE(c.name, i.company_name) IS NULL, COALESCE(c.name, i.company_name), NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.company_name_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.company_name_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.company_name_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.company_name_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.company_name_changed_at AS TIMESTAMP)), 1000000), 2) = 1
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
  )[SAFE_OFFSET(0)] AS company_name,
  ARRAY_AGG(
    IF(NOT c.company_id IS NULL, c.company_id, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(0, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.company_name_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.company_name_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.company_name_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.company_name_changed_at AS TIMESTAMP)), 1000000), 2) = 1
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
  )[SAFE_OFFSET(0)] AS company_id,
  ARRAY_AGG(
    IF(NOT i.job_title IS NULL, i.job_title, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.job_title_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.job_title_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.job_title_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.job_title_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.job_title_changed_at AS TIMESTAMP)), 1000000), 2) = 1
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
  )[SAFE_OFFSET(0)] AS job_title,
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
    IF(NOT i.lifecycle_stage IS NULL, i.lifecycle_stage, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.lifecycle_stage_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.lifecycle_stage_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.lifecycle_stage_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.lifecycle_stage_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.lifecycle_stage_changed_at AS TIMESTAMP)), 1000000), 2) = 1
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
  )[SAFE_OFFSET(0)] AS lifecycle_stage,
  ARRAY_AGG(
    IF(NOT i.lead_source IS NULL, i.lead_source, NULL) IGNORE NULLS ORDER BY (
      (
        CAST(COALESCE(TRUE, FALSE) AS INT64) << 62
      ) + (
        CAST(15 - LEAST(GREATEST(COALESCE(p.lead_source_rank, 0), 0), 15) AS INT64) << 58
      ) + (
        CAST(LEAST(
          GREATEST(
            COALESCE(
              DIV(UNIX_MICROS(CAST(i.lead_source_changed_at AS TIMESTAMP)), 1000000) + IF(
                MOD(UNIX_MICROS(CAST(i.lead_source_changed_at AS TIMESTAMP)), 1000000) > 500000
                OR (
                  MOD(UNIX_MICROS(CAST(i.lead_source_changed_at AS TIMESTAMP)), 1000000) = 500000
                  AND MOD(DIV(UNIX_MICROS(CAST(i.lead_source_changed_at AS TIMESTAMP)), 1000000), 2) = 1
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
  )[SAFE_OFFSET(0)] AS lead_source,
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
