-- materialized: table
-- audit: unique(invoice_id)
-- audit: not_null(invoice_id)
-- description: One row per invoice from every accounting connection, with a stable invoice_id, its customer in canonical.person, and the order it was made for (order_ref matching exactly one order's number or source id).
-- A record's person: the record it names in its own connection, else the person with its email.
-- An order reference names an order when it matches exactly one: an ambiguous one links nothing.
WITH orders AS (
    SELECT ref, min(order_id) AS order_id
    FROM (SELECT source_id AS ref, order_id FROM canonical.order
          UNION ALL
          SELECT order_number AS ref, order_id FROM canonical.order WHERE order_number IS NOT NULL)
    GROUP BY ref
    HAVING count(DISTINCT order_id) = 1
)
SELECT
    md5(concat_ws('/', 'invoice', r.connection, r.stream, r.source_id)) AS invoice_id,
    r.connection,
    r.stream,
    r.source_id,
    coalesce(linked.person_id, e.person_id) AS person_id,
    o.order_id,
    r.number,
    lower(trim(r.email)) AS email,
    r.status,
    r.total,
    r.balance,
    upper(r.currency) AS currency,
    r.due_date,
    r.order_ref,
    r.created_at,
    r.updated_at
FROM staging.invoice_records AS r
LEFT JOIN _hub.person_identity AS linked
    ON linked.connection = r.connection AND linked.stream = r.person_stream AND linked.source_id = r.person_source_id
LEFT JOIN canonical.person_by_email AS e ON e.email = lower(trim(r.email))
LEFT JOIN orders AS o ON o.ref = r.order_ref
