-- materialized: table
-- description: The QuickBooks customer of every buyer, one per email: named like the person (else the email), DisplayName made unique with the email (QuickBooks refuses a second customer of the same DisplayName).
SELECT
    o.email,
    CASE WHEN any_value(p.first_name) IS NOT NULL OR any_value(p.last_name) IS NOT NULL
         THEN concat_ws(' ', any_value(p.first_name), any_value(p.last_name)) || ' (' || o.email || ')'
         ELSE o.email END AS display_name,
    any_value(p.first_name) AS first_name,
    any_value(p.last_name) AS last_name
FROM canonical."order" AS o
LEFT JOIN canonical.person AS p ON p.person_id = o.person_id
WHERE o.email IS NOT NULL AND o.status <> 'cancelled'
GROUP BY o.email
