-- differs: survivorship ties (same validity, rank and second of change) are broken by Snowflake's HASH() of the source id here, by DuckDB's hash() in DuckDB: in such a tie another source's value may win
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
  IFF(
    COUNT_IF(NOT i.email IS NULL) = 0,
    NULL,
    MAX_BY(
      i.email,
      IFF(
        NOT i.email IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(i.email_is_valid, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.email_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.email_changed_at AS TIMESTAMPTZ)) / 1000000) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.email_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.email_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.email_changed_at AS TIMESTAMPTZ)) / 1000000) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS email,
  BOOLOR_AGG(i.email_is_valid) AS email_is_valid,
  IFF(
    COUNT_IF(NOT i.first_name IS NULL) = 0,
    NULL,
    MAX_BY(
      i.first_name,
      IFF(
        NOT i.first_name IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.first_name_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.first_name_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.first_name_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.first_name_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.first_name_changed_at AS TIMESTAMPTZ)) / 1000000
                      ) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS first_name,
  IFF(
    COUNT_IF(NOT i.last_name IS NULL) = 0,
    NULL,
    MAX_BY(
      i.last_name,
      IFF(
        NOT i.last_name IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.last_name_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.last_name_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.last_name_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.last_name_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.last_name_changed_at AS TIMESTAMPTZ)) / 1000000
                      ) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS last_name,
  IFF(
    COUNT_IF(NOT i.phone IS NULL) = 0,
    NULL,
    MAX_BY(
      i.phone,
      IFF(
        NOT i.phone IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(i.phone_is_valid, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.phone_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.phone_changed_at AS TIMESTAMPTZ)) / 1000000) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.phone_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.phone_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.phone_changed_at AS TIMESTAMPTZ)) / 1000000) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS phone,
  BOOLOR_AGG(i.phone_is_valid) AS phone_is_valid,
  IFF(
    COUNT_IF(NOT i.mobile_phone IS NULL) = 0,
    NULL,
    MAX_BY(
      i.mobile_phone,
      IFF(
        NOT i.mobile_phone IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(i.mobile_phone_is_valid, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.mobile_phone_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.mobile_phone_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.mobile_phone_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.mobile_phone_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.mobile_phone_changed_at AS TIMESTAMPTZ)) / 1000000
                      ) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS mobile_phone,
  IFF(
    COUNT_IF(NOT COALESCE(c.name, i.company_name) IS NULL) = 0,
    NULL,
    MAX_BY(
      COALESCE(c.name, i.company_name),
      IFF(
        NOT COALESCE(c.name, i.company_name) IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.company_name_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.company_name_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.company_name_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.company_name_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.company_name_changed_at AS TIMESTAMPTZ)) / 1000000
                      ) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS company_name,
  IFF(
    COUNT_IF(NOT c.company_id IS NULL) = 0,
    NULL,
    MAX_BY(
      c.company_id,
      IFF(
        NOT c.company_id IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(0, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.company_name_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.company_name_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.company_name_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.company_name_changed_at AS TIMESTAMPTZ)) / 1000000
                      ) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS company_id,
  IFF(
    COUNT_IF(NOT i.job_title IS NULL) = 0,
    NULL,
    MAX_BY(
      i.job_title,
      IFF(
        NOT i.job_title IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.job_title_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.job_title_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.job_title_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.job_title_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.job_title_changed_at AS TIMESTAMPTZ)) / 1000000
                      ) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS job_title,
  IFF(
    COUNT_IF(NOT i.city IS NULL) = 0,
    NULL,
    MAX_BY(
      i.city,
      IFF(
        NOT i.city IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.city_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.city_changed_at AS TIMESTAMPTZ)) / 1000000) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.city_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.city_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.city_changed_at AS TIMESTAMPTZ)) / 1000000) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS city,
  IFF(
    COUNT_IF(NOT i.country IS NULL) = 0,
    NULL,
    MAX_BY(
      i.country,
      IFF(
        NOT i.country IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.country_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.country_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.country_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.country_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.country_changed_at AS TIMESTAMPTZ)) / 1000000
                      ) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS country,
  IFF(
    COUNT_IF(NOT i.lifecycle_stage IS NULL) = 0,
    NULL,
    MAX_BY(
      i.lifecycle_stage,
      IFF(
        NOT i.lifecycle_stage IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(
            CAST(15 - LEAST(GREATEST(COALESCE(p.lifecycle_stage_rank, 0), 0), 15) AS BIGINT),
            58
          ) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.lifecycle_stage_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.lifecycle_stage_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.lifecycle_stage_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.lifecycle_stage_changed_at AS TIMESTAMPTZ)) / 1000000
                      ) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS lifecycle_stage,
  IFF(
    COUNT_IF(NOT i.lead_source IS NULL) = 0,
    NULL,
    MAX_BY(
      i.lead_source,
      IFF(
        NOT i.lead_source IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.lead_source_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.lead_source_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.lead_source_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.lead_source_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.lead_source_changed_at AS TIMESTAMPTZ)) / 1000000
                      ) % 2 = 1
                    ),
                    1,
                    0
                  ),
                  0
                ),
                0
              ),
              8589934591
            ) AS BIGINT),
            25
          ) + COALESCE(BITAND(HASH(i.source_id), 33554431), 0)
        ),
        -1
      )
    )
  ) AS lead_source,
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
