"""``[syncs.NAME]`` tables of hub.toml: what each sync pushes where, validated with hub.toml line numbers.

::

    [syncs.person_to_crm]
    model = "canonical.person"
    to = "crm"                       # a connection
    object = "contacts"              # the target's object, as its integration names it
    mode = "upsert"                  # upsert | update (never create) | insert (never update) | mirror (also remove)
    match = { email = "email" }      # model column = target field used to find the target record
    fields = { first_name = "firstname", last_name = "lastname", phone = "phone" }
    # optional:
    key = "person_id"                # the model's unique key (default: <table>_id, else id)
    where = "email_is_valid"         # only rows where this SQL condition on the model's columns holds
    conflicts = "latest"             # two-way: the latest edit wins, a priority list of connections, or "hold"
                                     # (neither side is written until one changes the field again)
                                     # (default: as [models.<table>] priority ranks a field, else the latest)
    on_target_delete = "skip"        # a record deleted in the target: leave it deleted (listed by `hub status`)
                                     # or "recreate" it (found again by match key, else created)
    refs = { customer = "customers_to_books" }   # a mapped column holding the key of another sync's row: sent as
                                     # the id of the target record that sync wrote for that row (a row whose
                                     # reference has no target record yet is rejected, and retried next run)
    associations = { company_id = "companies_sync" }   # a column holding the key of another sync's row: the
                                     # record is linked (associated) to the record that sync wrote for that row, in
                                     # targets whose records link to records (a NULL column: no link; a row whose
                                     # linked record is not written yet waits, UNRESOLVED_REFERENCE, retried next run)

Only what can be checked from the file is checked here; the model's columns are checked against the warehouse
(:mod:`hub.reverse_etl.diff`) and the target fields against the target's own field list
(:mod:`hub.reverse_etl.engine`), all before anything is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from hub.config import CONFIG_FILE
from hub.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from hub.project import Project

MODES = ("upsert", "update", "insert", "mirror")
KEYS = ("model", "to", "object", "mode", "match", "fields", "key", "where", "conflicts", "on_target_delete", "refs",
        "exclude", "associations")
#: the target field a link to another object's record travels in, inside a row's values: "associations.<object>"
LINK_PREFIX = "associations."
ON_TARGET_DELETE = ("skip", "recreate")
REQUIRED = ("model", "to", "object", "match")
LATEST = "latest"
HOLD = "hold"


@dataclass(frozen=True)
class SyncConfig:
    """One validated ``[syncs.NAME]`` table."""

    name: str
    model: str                      # "schema.table"
    to: str                         # connection name
    connection_type: str
    object: str
    mode: str
    match_column: str
    match_field: str
    fields: tuple[tuple[str, str], ...]      # (model column, target field), the match pair excluded
    key: str | None = None
    where: str | None = None
    conflicts: str | tuple[str, ...] = LATEST
    field_priority: dict[str, tuple[str, ...]] = field(default_factory=dict)   # from [models.<table>] priority
    line: int | None = None
    on_target_delete: str = "skip"  # skip | recreate: what a record the target deleted gets (reverse_etl.deletions)
    refs: tuple[tuple[str, str], ...] = ()   # (model column, other sync): the column names that sync's model key
    exclude: str | None = None      # "schema.table" whose key column lists rows the sync leaves out, as `where` would
    #: (model column, other sync, link field): the column names that sync's model key; the record is linked to the
    #: record that sync wrote, sent in the pseudo-field ``associations.<that sync's object>`` (also in ``fields``)
    links: tuple[tuple[str, str, str], ...] = ()

    @property
    def schema(self) -> str:
        return self.model.partition(".")[0]

    @property
    def table(self) -> str:
        return self.model.partition(".")[2]

    @property
    def mapping(self) -> tuple[tuple[str, str], ...]:
        """Every (model column, target field) pushed, the match pair first."""
        return ((self.match_column, self.match_field), *self.fields)

    @property
    def columns(self) -> list[str]:
        return [c for c, _ in self.mapping]

    @property
    def signature(self) -> str:
        """Changes when the mapping changes, so a re-mapped sync re-sends every row."""
        text = "|".join(f"{c}={f}" for c, f in self.mapping) + f"|{self.to}.{self.object}"
        return hashlib.md5(text.encode()).hexdigest()[:12]

    @property
    def policy(self) -> str:
        return self.conflicts if isinstance(self.conflicts, str) else "priority:" + ",".join(self.conflicts)

    def priority(self, column: str) -> tuple[str, ...]:
        """Connections (or connector types) whose edit of ``column`` wins a conflict, best first; empty: latest."""
        if isinstance(self.conflicts, tuple):
            return self.conflicts
        return self.field_priority.get(column, ())


def load(project: Project) -> dict[str, SyncConfig]:
    """Every ``[syncs.*]`` table, validated; errors point at hub.toml lines and suggest the closest name."""
    syncs = {name: _sync(project, name, body) for name, body in project.config.named_tables("syncs").items()}
    for sync in syncs.values():
        for peer in peers(syncs, sync):
            if peer.conflicts != sync.conflicts:
                raise ConfigError(f"[syncs.{sync.name}] and [syncs.{peer.name}] push the same model both ways but "
                                  f"resolve conflicts differently ({sync.policy} vs {peer.policy})", file=CONFIG_FILE,
                                  line=project.config.line_of("syncs", peer.name, "conflicts") or peer.line,
                                  hint="give both the same conflicts = ...")
        for column, other in sync.refs:
            if other not in syncs or other == sync.name:
                raise UnknownNameError("sync", other, [s for s in syncs if s != sync.name], file=CONFIG_FILE,
                                       line=project.config.line_of("syncs", sync.name, "refs") or sync.line,
                                       where=f" in [syncs.{sync.name}] refs.{column}")
    return {name: _linked(project, syncs, sync) for name, sync in syncs.items()}


def is_link(target_field: str) -> bool:
    """Whether a mapped target field is a link to another record (``associations``), not a field of the record."""
    return target_field.startswith(LINK_PREFIX)


def _linked(project: Project, syncs: dict[str, SyncConfig], sync: SyncConfig) -> SyncConfig:
    """``sync`` with each ``associations`` entry as a mapped pseudo-field ``associations.<other sync's object>``."""
    if not sync.links:
        return sync
    line = project.config.line_of("syncs", sync.name, "associations") or sync.line
    links, seen = [], {}
    for column, other, _ in sync.links:
        if other not in syncs or other == sync.name:
            raise UnknownNameError("sync", other, [s for s in syncs if s != sync.name], file=CONFIG_FILE, line=line,
                                   where=f" in [syncs.{sync.name}] associations.{column}")
        peer = syncs[other]
        if peer.to != sync.to:
            raise ConfigError(f"[syncs.{sync.name}] associations.{column} names sync '{other}', which pushes to "
                              f"'{peer.to}', not '{sync.to}': records link only within one connection",
                              file=CONFIG_FILE, line=line, hint="name a sync to the same connection")
        target = LINK_PREFIX + peer.object
        if target in seen:
            raise ConfigError(f"[syncs.{sync.name}] associations: '{seen[target]}' and '{column}' both link to "
                              f"{peer.object}; one column per object", file=CONFIG_FILE, line=line)
        seen[target] = column
        links.append((column, other, target))
    return replace(sync, links=tuple(links), fields=(*sync.fields, *((c, t) for c, _, t in links)))


def select(syncs: dict[str, SyncConfig], names: Sequence[str]) -> list[SyncConfig]:
    """The named syncs (all, in hub.toml order, when none are named); an unknown name suggests the closest."""
    if not names:
        return list(syncs.values())
    out = []
    for name in dict.fromkeys(names):
        if name not in syncs:
            raise UnknownNameError("sync", name, syncs, file=CONFIG_FILE)
        out.append(syncs[name])
    return out


def peers(syncs: dict[str, SyncConfig], sync: SyncConfig) -> list[SyncConfig]:
    """Other syncs from the same model to other connections: together they make a two-way (or n-way) sync."""
    return [s for s in syncs.values() if s.model == sync.model and s.to != sync.to and s.name != sync.name]


def _sync(project: Project, name: str, body: Any) -> SyncConfig:
    config = project.config

    def err(message: str, key: str | None = None, hint: str | None = None) -> ConfigError:
        return ConfigError(f"[syncs.{name}] {message}", file=CONFIG_FILE, line=line(key), key=key, hint=hint)

    def line(key: str | None = None) -> int | None:
        return config.line_of("syncs", name, key) if key else config.line_of("syncs", name)

    for key in body:
        if key not in KEYS:
            raise UnknownNameError("key", key, KEYS, file=CONFIG_FILE, line=line(key), where=f" in [syncs.{name}]")
    for key in REQUIRED:
        if key not in body:
            raise err(f"needs {key}", hint=_example(key, config, body))
    for key in ("model", "to", "object", "mode", "key", "where", "on_target_delete", "exclude"):
        if key in body and (not isinstance(body[key], str) or not body[key].strip()):
            raise err(f"{key} must be a non-empty string", key)

    model = body["model"].strip()
    if model.count(".") != 1 or not all(model.split(".")):
        raise err(f"model '{model}' must be schema.table", "model", hint="e.g. model = \"canonical.person\"")
    exclude = body["exclude"].strip() if "exclude" in body else None
    if exclude is not None and (exclude.count(".") != 1 or not all(exclude.split("."))):
        raise err(f"exclude '{exclude}' must be schema.table", "exclude",
                  hint="e.g. exclude = \"crm.open_lead_people\" (a model with the sync's key column)")
    mode = body.get("mode", "upsert")
    if mode not in MODES:
        raise UnknownNameError("mode", mode, MODES, file=CONFIG_FILE, line=line("mode"), where=f" in [syncs.{name}]")
    on_delete = body.get("on_target_delete", "skip")
    if on_delete not in ON_TARGET_DELETE:
        raise UnknownNameError("on_target_delete", on_delete, ON_TARGET_DELETE, file=CONFIG_FILE,
                               line=line("on_target_delete"), where=f" in [syncs.{name}]")
    to = body["to"]
    if to not in config.connections:
        raise UnknownNameError("connection", to, config.connections, file=CONFIG_FILE, line=line("to"),
                               where=f" in [syncs.{name}] to")
    from hub.registry import pusher_class

    kind = config.connections[to].type
    try:
        pusher_class(kind)
    except UnknownNameError:
        raise err(f"cannot push to connection '{to}': hub has no pusher for {kind} connections", "to") from None

    match = _pairs(body["match"], err, "match")
    if len(match) != 1:
        raise err("match must name exactly one column = target field", "match",
                  hint="e.g. match = { email = \"email\" }")
    fields = _pairs(body.get("fields", {}), err, "fields")
    (match_column, match_field), = match.items()
    targets = [match_field, *fields.values()]
    dupes = sorted({f for f in targets if targets.count(f) > 1})
    if dupes:
        raise err(f"target field '{dupes[0]}' is mapped twice", "fields")
    conflicts = _conflicts(body.get("conflicts", LATEST), config, err, line("conflicts"))
    refs = _pairs(body.get("refs", {}), err, "refs")
    for column in refs:
        if column != match_column and column not in fields:
            raise err(f"refs names column '{column}', which the sync does not send", "refs",
                      hint="map it first: fields = { " + column + " = \"<target field>\" }")
        if column == body.get("key"):
            raise err(f"refs names the key column '{column}': a reference is a value to send, not the row's key",
                      "refs")
    associations = _pairs(body.get("associations", {}), err, "associations")
    for column in associations:
        if column == match_column or column in fields:
            raise err(f"associations names column '{column}', which the sync also sends as a field", "associations",
                      hint="a column is either a field of the record or a link to another record, not both")
        if column == body.get("key"):
            raise err(f"associations names the key column '{column}': it must name another sync's row", "associations")
    return SyncConfig(name=name, model=model, to=to, connection_type=kind, object=body["object"].strip(),
                      mode=mode, match_column=match_column, match_field=match_field,
                      fields=tuple((c, f) for c, f in fields.items() if c != match_column),
                      key=body.get("key"), where=body.get("where"), conflicts=conflicts,
                      field_priority=_model_priority(config, model), line=line(), on_target_delete=on_delete,
                      refs=tuple(refs.items()), exclude=exclude,
                      links=tuple((c, o, "") for c, o in associations.items()))


def _pairs(value: Any, err: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
        raise err(f"{key} must be a table of model column = \"target field\"", key,
                  hint=_EXAMPLES.get(key))
    return dict(value)


def _model_priority(config: Any, model: str) -> dict[str, tuple[str, ...]]:
    # the model resolves each field the same way (see hub.modeling.settings); a conflict then agrees with it
    body = config.sections.get("models", {}).get(model.partition(".")[2], {})
    priority = body.get("priority", {}) if isinstance(body, dict) else {}
    return {column: tuple(order) for column, order in priority.items() if isinstance(order, list)} \
        if isinstance(priority, dict) else {}


def _conflicts(value: Any, config: Any, err: Any, line: int | None) -> str | tuple[str, ...]:
    if value in (LATEST, HOLD):
        return str(value)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        for name in value:
            if name not in config.connections:
                raise UnknownNameError("connection", name, config.connections, file=CONFIG_FILE, line=line,
                                       where=" in conflicts")
        return tuple(value)
    names = ", ".join(f"\"{name}\"" for name in list(config.connections)[:2]) or "\"crm\", \"billing\""
    raise err("conflicts must be \"latest\", \"hold\" or a list of connections, highest priority first", "conflicts",
              hint=f"e.g. conflicts = [{names}]")


_EXAMPLES = {
    "model": "e.g. model = \"canonical.person\"",
    "to": "e.g. to = \"crm\" (a [connections.NAME])",
    "object": "e.g. object = \"contacts\" (an object of the target)",
    "match": "e.g. match = { email = \"email\" }",
    "fields": "e.g. fields = { first_name = \"firstname\" }",
    "refs": "e.g. refs = { customer = \"customers_to_books\" } (a mapped column = the sync whose rows it names)",
    "associations": "e.g. associations = { company_id = \"companies_to_crm\" } (a column = the sync whose rows it "
                    "names)",
}


def _example(key: str, config: Any, body: dict[str, Any]) -> str:
    """The hint for a missing key, from this project where it can be: a connection hub can push to, or the objects
    the sync's target always has (its pusher's ``known_objects``)."""
    from hub.registry import pusher_class

    def pushable(kind: str) -> Any:
        try:
            return pusher_class(kind)
        except UnknownNameError:
            return None

    if key == "to":
        names = [name for name, c in config.connections.items() if pushable(c.type) is not None]
        if names:
            return f"e.g. to = \"{names[0]}\" (a [connections.NAME] hub can push to: {', '.join(names)})"
    if key == "object" and body.get("to") in config.connections:
        pusher = pushable(config.connections[body["to"]].type)
        if pusher is not None and pusher.known_objects:
            known = pusher.known_objects
            return f"e.g. object = \"{known[0]}\" (one of {', '.join(known)}, or another object of the target)"
    return _EXAMPLES[key]
