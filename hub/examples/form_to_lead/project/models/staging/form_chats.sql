-- materialized: view
-- description: The website's chat conversations (raw_website.chat, posted by the chat widget when a chat ends), one row each.
SELECT
    id AS chat_id,
    lower(nullif(trim(email), '')) AS email,
    nullif(trim(name), '') AS name,
    transcript,
    coalesce(try_cast(started_at AS TIMESTAMPTZ), submitted_at) AS started_at,
    submitted_at
FROM raw_website.chat
