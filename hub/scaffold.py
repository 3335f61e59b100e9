"""`hub init`: lay out a new project (hub.toml, secrets.toml 0600, models/, .gitignore)."""

from __future__ import annotations

import os
from pathlib import Path

from hub.config import CONFIG_FILE, SECRETS_FILE
from hub.errors import ConfigError

HUB_TOML = """\
# hub project configuration. Secrets (tokens) never go here: put them in secrets.toml (git-ignored) or in
# environment variables named after the key, e.g. HUB__CONNECTIONS__HUBSPOT__TOKEN.

[warehouse]
path = "warehouse.duckdb"            # relative to this directory

[connections.hubspot]                # one table per account of an external system
type = "hubspot"
base_url = "https://api.hubapi.com"
streams = ["contacts", "companies"]  # what `hub ingest` pulls; omit for the connector's defaults

[connections.salesforce]
type = "salesforce"
base_url = "https://example.my.salesforce.com"   # your instance URL
streams = ["Contact", "Account"]
"""

SECRETS_TOML = """\
# Secrets for hub.toml's connections. Keep this file out of version control (it is in .gitignore).
# The environment wins over this file: HUB__CONNECTIONS__HUBSPOT__TOKEN, HUB__CONNECTIONS__SALESFORCE__TOKEN.

[connections.hubspot]
# token = "pat-na1-..."              # a HubSpot private-app token

[connections.salesforce]
# token = "00D..."                   # a Salesforce access token
"""

SECRETS_TOML_EMPTY = """\
# Secrets for hub.toml's connections (git-ignored). The environment wins over this file:
# HUB__CONNECTIONS__<NAME>__TOKEN and so on. `hub demo` passes the sandbox's tokens through the environment,
# so nothing is stored here for the examples.
"""

GITIGNORE = """\
secrets.toml
.hub/
*.duckdb
*.duckdb.wal
"""


def init(directory: Path, *, hub_toml: str = HUB_TOML, secrets_toml: str = SECRETS_TOML) -> list[Path]:
    """Create a project in ``directory``; refuses to overwrite an existing hub.toml. Returns the files written."""
    directory = Path(directory)
    if (directory / CONFIG_FILE).exists():
        raise ConfigError(f"{directory / CONFIG_FILE} already exists", hint="edit it, or choose another directory")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "models").mkdir(exist_ok=True)
    written = [directory / CONFIG_FILE, directory / SECRETS_FILE, directory / ".gitignore", directory / "models"]
    (directory / CONFIG_FILE).write_text(hub_toml, encoding="utf-8")
    write_private(directory / SECRETS_FILE, secrets_toml)
    if not (directory / ".gitignore").exists():
        (directory / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    return written


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), atomically: other users never see its contents."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
