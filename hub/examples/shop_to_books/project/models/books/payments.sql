-- materialized: table
-- description: One payment per order that was paid (refunded later or not), applied to the order's invoice (its order_id: the key of invoices_to_books, sent as the invoice's id through refs).
SELECT
    i.order_id,
    i.order_number,
    i.customer,
    i.order_id AS invoice,
    i.total,
    'payment of order ' || i.order_number AS note
FROM books.invoices AS i
JOIN canonical."order" AS o USING (order_id)
WHERE o.financial_status IN ('paid', 'partially_refunded', 'refunded')
