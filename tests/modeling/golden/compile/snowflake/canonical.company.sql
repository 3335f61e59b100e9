-- differs: survivorship ties (same validity, rank and second of change) are broken by Snowflake's HASH() of the source id here, by DuckDB's hash() in DuckDB: in such a tie another source's value may win
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
  IFF(
    COUNT_IF(NOT i.name IS NULL) = 0,
    NULL,
    MAX_BY(
      i.name,
      IFF(
        NOT i.name IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.name_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.name_changed_at AS TIMESTAMPTZ)) / 1000000) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.name_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.name_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.name_changed_at AS TIMESTAMPTZ)) / 1000000) % 2 = 1
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
  ) AS name,
  IFF(
    COUNT_IF(NOT i.domain IS NULL) = 0,
    NULL,
    MAX_BY(
      i.domain,
      IFF(
        NOT i.domain IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(i.domain_is_valid, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.domain_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.domain_changed_at AS TIMESTAMPTZ)) / 1000000) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.domain_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.domain_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(DATE_PART(EPOCH_MICROSECOND, CAST(i.domain_changed_at AS TIMESTAMPTZ)) / 1000000) % 2 = 1
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
  ) AS domain,
  BOOLOR_AGG(i.domain_is_valid) AS domain_is_valid,
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
    COUNT_IF(NOT i.industry IS NULL) = 0,
    NULL,
    MAX_BY(
      i.industry,
      IFF(
        NOT i.industry IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(p.industry_rank, 0), 0), 15) AS BIGINT), 58) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.industry_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.industry_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.industry_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.industry_changed_at AS TIMESTAMPTZ)) / 1000000
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
  ) AS industry,
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
    COUNT_IF(NOT i.employee_count IS NULL) = 0,
    NULL,
    MAX_BY(
      i.employee_count,
      IFF(
        NOT i.employee_count IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(
            CAST(15 - LEAST(GREATEST(COALESCE(p.employee_count_rank, 0), 0), 15) AS BIGINT),
            58
          ) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.employee_count_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.employee_count_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.employee_count_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.employee_count_changed_at AS TIMESTAMPTZ)) / 1000000
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
  ) AS employee_count,
  IFF(
    COUNT_IF(NOT i.annual_revenue IS NULL) = 0,
    NULL,
    MAX_BY(
      i.annual_revenue,
      IFF(
        NOT i.annual_revenue IS NULL,
        (
          BITSHIFTLEFT(CAST(COALESCE(TRUE, FALSE) AS BIGINT), 62) + BITSHIFTLEFT(
            CAST(15 - LEAST(GREATEST(COALESCE(p.annual_revenue_rank, 0), 0), 15) AS BIGINT),
            58
          ) + BITSHIFTLEFT(
            CAST(LEAST(
              GREATEST(
                COALESCE(
                  FLOOR(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.annual_revenue_changed_at AS TIMESTAMPTZ)) / 1000000
                  ) + IFF(
                    DATE_PART(EPOCH_MICROSECOND, CAST(i.annual_revenue_changed_at AS TIMESTAMPTZ)) % 1000000 > 500000
                    OR (
                      DATE_PART(EPOCH_MICROSECOND, CAST(i.annual_revenue_changed_at AS TIMESTAMPTZ)) % 1000000 = 500000
                      AND FLOOR(
                        DATE_PART(EPOCH_MICROSECOND, CAST(i.annual_revenue_changed_at AS TIMESTAMPTZ)) / 1000000
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
  ) AS annual_revenue,
  COUNT(*) AS source_count,
  MIN(COALESCE(i.created_at, i.updated_at)) AS first_seen_at,
  MAX(i.updated_at) AS updated_at
FROM _hub.company_identity AS i
JOIN _hub.company_priority AS p
  ON p.connection = i.connection
GROUP BY
  i.company_id
