"""Actions and data triggers: what ``[triggers]`` do besides pushing a sync.

``config`` (``[actions.NAME]``: ``http`` and ``notify``), ``template`` (``{{ path }}`` placeholders), ``send``
(Standard Webhooks signing, retries with backoff, dead letters in ``_hub.action_dead_letters``) and ``data``
(``on = "model:SCHEMA.NAME"``: rows entering a condition after a build fire once, durably).
"""
