-- materialized: table
-- description: One invoice per order (cancelled ones left out): DocNumber is the order number, the customer is the buyer's email (sent as the QuickBooks customer id through the sync's refs), one line of the order's total.
SELECT
    o.order_id,
    o.order_number,
    o.email AS customer,
    o.total,
    'Shop order ' || o.order_number AS description,
    CAST(o.created_at AS DATE) AS order_date,
    'order: ' || o.order_number AS note
FROM canonical."order" AS o
WHERE o.email IS NOT NULL AND o.order_number IS NOT NULL AND o.status <> 'cancelled'
