"""Any REST API declared in hub.toml (``type = "rest"``): streams, paginators, incremental cursors and auth as data."""

from hub.integrations.spec import Integration

integration = Integration(
    name="rest", title="REST API", package=__name__, connector="source:RestConnector", pusher="target:RestPusher",
    emulator="emulator:EMULATOR", staging=None,
    summary="any REST API declared in hub.toml: streams, paginators, incremental cursors, auth, push targets")
