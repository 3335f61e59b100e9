-- differs: survivorship ties (same validity, rank and second of change) are broken by md5 of the source id here, by DuckDB's hash() in DuckDB: in such a tie another source's value may win
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
  (
    ARRAY_AGG(
      i.name ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.name_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.name_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
                0
              ),
              0
            ),
            8589934591
          ) AS BIGINT) << 25
        ) + COALESCE(
          CAST(CAST('x' || SUBSTRING(MD5(CAST(i.source_id AS TEXT)) FROM 1 FOR 16) AS BIT(64)) AS BIGINT) & 33554431,
          0
        )
      ) DESC
    ) FILTER(WHERE
      NOT i.name IS NULL)
  )[1] AS name,
  (
    ARRAY_AGG(
      i.domain ORDER BY (
        (
          CAST(CAST(COALESCE(i.domain_is_valid, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.domain_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.domain_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
                0
              ),
              0
            ),
            8589934591
          ) AS BIGINT) << 25
        ) + COALESCE(
          CAST(CAST('x' || SUBSTRING(MD5(CAST(i.source_id AS TEXT)) FROM 1 FOR 16) AS BIT(64)) AS BIGINT) & 33554431,
          0
        )
      ) DESC
    ) FILTER(WHERE
      NOT i.domain IS NULL)
  )[1] AS domain,
  BOOL_OR(i.domain_is_valid) AS domain_is_valid,
  (
    ARRAY_AGG(
      i.phone ORDER BY (
        (
          CAST(CAST(COALESCE(i.phone_is_valid, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.phone_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.phone_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
                0
              ),
              0
            ),
            8589934591
          ) AS BIGINT) << 25
        ) + COALESCE(
          CAST(CAST('x' || SUBSTRING(MD5(CAST(i.source_id AS TEXT)) FROM 1 FOR 16) AS BIT(64)) AS BIGINT) & 33554431,
          0
        )
      ) DESC
    ) FILTER(WHERE
      NOT i.phone IS NULL)
  )[1] AS phone,
  BOOL_OR(i.phone_is_valid) AS phone_is_valid,
  (
    ARRAY_AGG(
      i.industry ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.industry_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.industry_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
                0
              ),
              0
            ),
            8589934591
          ) AS BIGINT) << 25
        ) + COALESCE(
          CAST(CAST('x' || SUBSTRING(MD5(CAST(i.source_id AS TEXT)) FROM 1 FOR 16) AS BIT(64)) AS BIGINT) & 33554431,
          0
        )
      ) DESC
    ) FILTER(WHERE
      NOT i.industry IS NULL)
  )[1] AS industry,
  (
    ARRAY_AGG(
      i.city ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.city_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.city_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
                0
              ),
              0
            ),
            8589934591
          ) AS BIGINT) << 25
        ) + COALESCE(
          CAST(CAST('x' || SUBSTRING(MD5(CAST(i.source_id AS TEXT)) FROM 1 FOR 16) AS BIT(64)) AS BIGINT) & 33554431,
          0
        )
      ) DESC
    ) FILTER(WHERE
      NOT i.city IS NULL)
  )[1] AS city,
  (
    ARRAY_AGG(
      i.country ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.country_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.country_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
                0
              ),
              0
            ),
            8589934591
          ) AS BIGINT) << 25
        ) + COALESCE(
          CAST(CAST('x' || SUBSTRING(MD5(CAST(i.source_id AS TEXT)) FROM 1 FOR 16) AS BIT(64)) AS BIGINT) & 33554431,
          0
        )
      ) DESC
    ) FILTER(WHERE
      NOT i.country IS NULL)
  )[1] AS country,
  (
    ARRAY_AGG(
      i.employee_count ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.employee_count_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.employee_count_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
                0
              ),
              0
            ),
            8589934591
          ) AS BIGINT) << 25
        ) + COALESCE(
          CAST(CAST('x' || SUBSTRING(MD5(CAST(i.source_id AS TEXT)) FROM 1 FOR 16) AS BIT(64)) AS BIGINT) & 33554431,
          0
        )
      ) DESC
    ) FILTER(WHERE
      NOT i.employee_count IS NULL)
  )[1] AS employee_count,
  (
    ARRAY_AGG(
      i.annual_revenue ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.annual_revenue_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.annual_revenue_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
                0
              ),
              0
            ),
            8589934591
          ) AS BIGINT) << 25
        ) + COALESCE(
          CAST(CAST('x' || SUBSTRING(MD5(CAST(i.source_id AS TEXT)) FROM 1 FOR 16) AS BIT(64)) AS BIGINT) & 33554431,
          0
        )
      ) DESC
    ) FILTER(WHERE
      NOT i.annual_revenue IS NULL)
  )[1] AS annual_revenue,
  COUNT(*) AS source_count,
  MIN(COALESCE(i.created_at, i.updated_at)) AS first_seen_at,
  MAX(i.updated_at) AS updated_at
FROM _hub.company_identity AS i
JOIN _hub.company_priority AS p
  ON p.connection = i.connection
GROUP BY
  i.company_id
