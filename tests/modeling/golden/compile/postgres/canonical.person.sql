-- differs: survivorship ties (same validity, rank and second of change) are broken by md5 of the source id here, by DuckDB's hash() in DuckDB: in such a tie another source's value may win
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
  (
    ARRAY_AGG(
      i.email ORDER BY (
        (
          CAST(CAST(COALESCE(i.email_is_valid, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.email_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.email_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
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
      NOT i.email IS NULL)
  )[1] AS email,
  BOOL_OR(i.email_is_valid) AS email_is_valid,
  (
    ARRAY_AGG(
      i.first_name ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.first_name_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.first_name_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
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
      NOT i.first_name IS NULL)
  )[1] AS first_name,
  (
    ARRAY_AGG(
      i.last_name ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.last_name_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.last_name_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
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
      NOT i.last_name IS NULL)
  )[1] AS last_name,
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
      i.mobile_phone ORDER BY (
        (
          CAST(CAST(COALESCE(i.mobile_phone_is_valid, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.mobile_phone_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.mobile_phone_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
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
      NOT i.mobile_phone IS NULL)
  )[1] AS mobile_phone,
  (
    ARRAY_AGG(
      COALESCE(c.name, i.company_name) ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.company_name_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.company_name_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
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
      NOT COALESCE(c.name, i.company_name) IS NULL)
  )[1] AS company_name,
  (
    ARRAY_AGG(
      c.company_id ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(0, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.company_name_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
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
      NOT c.company_id IS NULL)
  )[1] AS company_id,
  (
    ARRAY_AGG(
      i.job_title ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.job_title_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.job_title_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
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
      NOT i.job_title IS NULL)
  )[1] AS job_title,
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
      i.lifecycle_stage ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.lifecycle_stage_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.lifecycle_stage_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
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
      NOT i.lifecycle_stage IS NULL)
  )[1] AS lifecycle_stage,
  (
    ARRAY_AGG(
      i.lead_source ORDER BY (
        (
          CAST(CAST(COALESCE(TRUE, FALSE) AS INT) AS BIGINT) << 62
        ) + (
          CAST(15 - LEAST(GREATEST(COALESCE(p.lead_source_rank, 0), 0), 15) AS BIGINT) << 58
        ) + (
          CAST(LEAST(
            GREATEST(
              COALESCE(
                CAST(EXTRACT(EPOCH FROM CAST(i.lead_source_changed_at AS TIMESTAMPTZ)) AS DOUBLE PRECISION),
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
      NOT i.lead_source IS NULL)
  )[1] AS lead_source,
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
