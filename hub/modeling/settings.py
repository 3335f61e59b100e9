"""``[models.*]`` of hub.toml: per-entity settings for identity resolution, validated with file and line.

```toml
[models.person]
priority = { phone = ["sales_crm", "marketing"] }   # per field: connections (or connector types), best first
phone_region = "US"                                 # how phones without a country code are read
```
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.config import CONFIG_FILE
from hub.errors import ConfigError, UnknownNameError
from hub.modeling.entities import ENTITIES
from hub.modeling.phones import DEFAULT_REGION, regions

if TYPE_CHECKING:
    from hub.project import Project

KEYS = ("priority", "phone_region")


@dataclass(frozen=True)
class EntitySettings:
    """How one entity is resolved: source priority per field (connection names, best first) and the phone region."""

    priority: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phone_region: str = DEFAULT_REGION

    def rank(self, column: str, connection: str) -> int:
        """0 for the best source of ``column``; unlisted sources after listed ones; all equal without a priority."""
        order = self.priority.get(column)
        if not order:
            return 0
        return order.index(connection) if connection in order else len(order)

    @property
    def digest(self) -> str:
        """Changes whenever the settings do, so identity knows to re-read every record."""
        body = json.dumps({"priority": self.priority, "phone_region": self.phone_region}, sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


def load_settings(project: Project, fields: dict[str, Iterable[str]] | None = None) -> dict[str, EntitySettings]:
    """Validated settings per entity. ``fields`` are the rankable columns per entity (default: the contract's)."""
    config = project.config
    raw = config.sections.get("models", {})
    if not isinstance(raw, dict):
        raise ConfigError("[models] must be a table", file=CONFIG_FILE, line=config.line_of("models"))
    out = {}
    for name, body in raw.items():
        if name not in ENTITIES:
            raise UnknownNameError("models table", name, ENTITIES, file=CONFIG_FILE,
                                   line=config.line_of("models", name), where=f" [models.{name}]")
        known_fields = set(fields[name]) if fields and name in fields else set(ENTITIES[name].survivable)
        out[name] = _entity(project, name, body, known_fields)
    return {name: out.get(name, EntitySettings()) for name in ENTITIES}


def _entity(project: Project, name: str, body: Any, fields: set[str]) -> EntitySettings:
    config = project.config
    where = f"[models.{name}]"
    if not isinstance(body, dict):
        raise ConfigError(f"{where} must be a table", file=CONFIG_FILE, line=config.line_of("models", name))
    for key in body:
        if key not in KEYS:
            raise UnknownNameError("key", key, KEYS, file=CONFIG_FILE, line=config.line_of("models", name, key),
                                   where=f" in {where}")
    region = body.get("phone_region", DEFAULT_REGION)
    line = config.line_of("models", name, "phone_region")
    if not isinstance(region, str):
        raise ConfigError(f"{where} phone_region must be a region code like \"US\"", file=CONFIG_FILE, line=line)
    if region.upper() not in regions():
        raise UnknownNameError("phone region", region.upper(), regions(), file=CONFIG_FILE, line=line,
                               where=f" in {where} phone_region")
    return EntitySettings(priority=_priority(project, name, body.get("priority", {}), fields),
                          phone_region=region.upper())


def _priority(project: Project, name: str, body: Any, fields: set[str]) -> dict[str, tuple[str, ...]]:
    config = project.config
    line = config.line_of("models", name, "priority")
    if not isinstance(body, dict):
        raise ConfigError(f"[models.{name}] priority must be a table of field = [sources]", file=CONFIG_FILE,
                          line=line, hint='priority = { phone = ["sales_crm", "marketing"] }')
    connections = sorted(config.connections)
    by_type: dict[str, list[str]] = {}
    for conn in config.connections.values():
        by_type.setdefault(conn.type, []).append(conn.name)
    out = {}
    for column, sources in body.items():
        if column not in fields:
            raise UnknownNameError(f"{name} field", column, fields, file=CONFIG_FILE, line=line,
                                   where=f" in [models.{name}] priority")
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise ConfigError(f"[models.{name}] priority.{column} must be a list of connection names",
                              file=CONFIG_FILE, line=line)
        order: list[str] = []
        for source in sources:
            if source in config.connections:
                order.append(source)
            elif source in by_type:
                order.extend(sorted(by_type[source]))   # a connector type stands for each of its connections
            else:
                raise UnknownNameError("connection", source, [*connections, *by_type], file=CONFIG_FILE, line=line,
                                       where=f" in [models.{name}] priority.{column}")
        out[column] = tuple(dict.fromkeys(order))
    return out
