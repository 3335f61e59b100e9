-- materialized: table
-- description: One credit memo per refunded order, for everything refunded so far (a later refund updates it), DocNumber "<order number>-R".
SELECT
    i.order_id,
    i.order_number || '-R' AS memo_number,
    i.customer,
    r.refunded,
    'Refund of shop order ' || i.order_number AS description,
    'refund of order: ' || i.order_number AS note
FROM books.invoices AS i
JOIN canonical."order" AS o USING (order_id)
JOIN staging.order_records AS r
  ON r.connection = o.connection AND r.stream = o.stream AND r.source_id = o.source_id
WHERE r.refunded > 0
