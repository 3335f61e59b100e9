-- materialized: table
-- audit: unique(person_id)
-- audit: not_null(email)
-- description: Every person who has paid a Stripe invoice and is a HubSpot contact: lifecycle stage customer and their lifetime revenue (paid USD invoices, in dollars). HubSpot's lifecycle stage only moves forward, so a contact already past customer (evangelist, other) keeps its stage.
WITH paid AS (
    SELECT s.person_id, sum(i.amount_paid) AS cents
    FROM canonical.person_source AS s
    JOIN raw_stripe.invoices AS i ON i.customer = s.source_id
    WHERE s.connection = 'stripe' AND i.status = 'paid' AND i.currency = 'usd'
    GROUP BY s.person_id
),
contact AS (   -- the person's HubSpot contact (the latest edited, when two share the person)
    SELECT DISTINCT ON (s.person_id) s.person_id, c.lifecycle_stage
    FROM canonical.person_source AS s
    JOIN staging.hubspot_contacts AS c ON c.source_id = s.source_id
    WHERE s.connection = 'hubspot' AND s.stream = 'contacts'
    ORDER BY s.person_id, s.source_updated_at DESC NULLS LAST, s.source_id
)
SELECT
    p.person_id,
    p.email,
    CASE WHEN contact.lifecycle_stage IN ('evangelist', 'other') THEN contact.lifecycle_stage
         ELSE 'customer' END AS lifecycle_stage,
    CAST(paid.cents / 100 AS DECIMAL(18, 2)) AS total_revenue
FROM paid
JOIN contact ON contact.person_id = paid.person_id
JOIN canonical.person AS p ON p.person_id = paid.person_id
WHERE p.email_is_valid
