/* materialized: view */
/* description: Which person a valid email belongs to: the person the business records (orders, invoices, tickets, leads) fall back to when they name no customer record of their own connection. */
SELECT
  email,
  MIN(person_id) AS person_id
FROM _hub.person_identity
WHERE
  NOT email IS NULL AND email_is_valid
GROUP BY
  email
