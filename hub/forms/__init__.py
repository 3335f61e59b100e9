"""Web forms: ``[forms.NAME]`` in hub.toml, taken by ``hub serve`` at ``POST /forms/NAME``.

``config`` (the checks of ``[forms.*]``), ``intake`` (validation, honeypot, CORS, rate limit, shared secret: one
request to one inbox event) and ``scheme`` (how the flusher lands a submission in ``raw_<connection>.<form>``).
A submission is stored durably in the inbox before the 2xx, exactly like a webhook event, and fires the triggers
with ``on = "form:NAME"``.
"""
