"""Every model of a project: the built-in ones shipped in ``models/``, the project's own, and the generated ones.

A file's path names its model: ``models/canonical/person.sql`` is ``canonical.person`` (deeper folders join with ``_``,
a file at the top goes to ``main``). A project file at the same path as a built-in replaces it. Files under
``staging/<connector type>/`` are templates, written against the type's default raw schema (``raw_<type>``); each
connection of that type gets its own instance, ``staging.<connection>_<file>``, reading ``raw_<connection>``, tagged
with the connection. A project file naming an instance (``models/staging/crm_contacts.sql``) replaces just that one.
Last come the generated nodes: one union of records per entity and the identity step that reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hub.errors import ModelError, UnknownNameError
from hub.modeling import audits
from hub.modeling.entities import UNIONS, Entity, union_model
from hub.modeling.model import Header, Model, Position, Ref, parse_model, rewrite_schemas

if TYPE_CHECKING:
    from hub.project import Project

MODELS_DIR = "models"
RESERVED_SCHEMAS = ("_hub", "information_schema", "pg_catalog")


@dataclass
class Catalog:
    """The models of one project, by name, and which model writes each relation."""

    models: dict[str, Model]
    checks: dict[str, list[audits.Check]] = field(default_factory=dict)
    producers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for model in self.models.values():
            for relation in (model.name, *model.produces):
                self.producers[relation] = model.name

    def get(self, name: str) -> Model:
        """The model called ``name``; an unknown name fails with the closest one."""
        try:
            return self.models[name.lower()]
        except KeyError:
            raise UnknownNameError("model", name, self.models) from None

    def __iter__(self) -> Iterator[Model]:
        return iter(self.models.values())


def builtin_dir() -> Path:
    import hub.models as models

    return Path(models.__file__).parent


def load_catalog(project: Project) -> Catalog:
    """Discover, instantiate and validate every model of ``project``."""
    from hub.registry import connector_types

    sources = {rel: (path, True) for rel, path in _builtin_sql_files()}
    sources.update({rel: (path, False) for rel, path in _sql_files(project.root / MODELS_DIR)})
    types = set(connector_types())
    explicit: dict[str, Model] = {}
    instances: dict[str, Model] = {}
    for rel, (path, builtin) in sorted(sources.items()):
        parts = rel.split("/")
        if len(parts) == 3 and parts[0] == "staging" and parts[1] in types:
            for model in _instances(project, parts[1], parts[2][:-4], path, rel, builtin):
                if model.name in instances:   # connection "a_b" + file "c" meets connection "a" + file "b_c"
                    raise model.error(f"two staging models would be named {model.name}",
                                      hint="rename a connection or a staging file")
                instances[model.name] = model
            continue
        model = _load(_name_of(parts), path, rel, builtin)
        if model.name in explicit:
            other = explicit[model.name]
            raise model.error(f"two files define model {model.name}: {other.file} and {model.file}",
                              hint="rename one of them")
        explicit[model.name] = model
    # A project file beats a template instance of the same name; a built-in file does not beat a project template.
    merged = dict(instances)
    for name, model in explicit.items():
        if name not in merged or not model.builtin or merged[name].builtin:
            merged[name] = model
    for model in merged.values():
        if model.schema in RESERVED_SCHEMAS:
            raise model.error(f"schema {model.schema} is reserved for hub", hint="move the file to another folder")
    checks = {m.name: audits.validate(m, _audit_root(project, m.builtin)) for m in merged.values()}
    for entity in UNIONS.values():
        _add_entity_nodes(merged, entity)
    return Catalog(dict(sorted(merged.items())), checks)


def _add_entity_nodes(models: dict[str, Model], entity: Entity) -> None:
    members = [m for m in models.values() if m.header.entity == entity.name and m.kind == "sql"]
    if entity.union not in models:
        models[entity.union] = union_model(entity, sorted(members, key=lambda m: m.name))
    union = models[entity.union]
    if not entity.resolved:
        return
    models[entity.identity] = Model(
        name=entity.identity, kind="identity", header=Header(materialized="identity",
                                                             description=f"Resolves {entity.name} records to "
                                                                         f"stable {entity.name}_id values."),
        file=f"generated:{entity.identity}", refs=(Ref(union.schema, union.table, Position()),),
        produces=tuple(t for t in entity.tables if t != entity.identity), builtin=True)


def _instances(project: Project, kind: str, stem: str, path: Path, rel: str, builtin: bool) -> list[Model]:
    from hub.registry import connector_class

    streams = {s.table: s.name for s in connector_class(kind).streams.values()}
    text = _read(path, rel, builtin)
    out = []
    for conn in sorted(project.config.connections.values(), key=lambda c: c.name):
        if conn.type != kind:
            continue
        sql = text if conn.name == kind else rewrite_schemas(text, {f"raw_{kind}": f"raw_{conn.name}"})
        out.append(parse_model(f"staging.{conn.name}_{stem}", sql, file=_display(rel, builtin), path=path,
                               builtin=builtin, connection=conn.name, stream=streams.get(stem, stem)))
    return out


def _load(name: str, path: Path, rel: str, builtin: bool) -> Model:
    return parse_model(name, _read(path, rel, builtin), file=_display(rel, builtin), path=path, builtin=builtin)


def _name_of(parts: list[str]) -> str:
    stem = parts[-1][:-4]
    if len(parts) == 1:
        return f"main.{stem}"
    return f"{parts[0]}." + "_".join([*parts[1:-1], stem])


def _builtin_sql_files() -> list[tuple[str, Path]]:
    """The models shipped with hub: ``models/`` and each integration's staging folder (as ``staging/<type>/``)."""
    from hub.integrations import all_integrations

    files = _sql_files(builtin_dir())
    for name, integration in all_integrations().items():
        folder = integration.staging_dir()
        if folder is not None:
            files += [(f"staging/{name}/{rel}", path) for rel, path in _sql_files(folder)]
    return files


def _sql_files(root: Path) -> list[tuple[str, Path]]:
    if not root.is_dir():
        return []
    return sorted((p.relative_to(root).as_posix().lower(), p) for p in root.rglob("*.sql") if p.is_file())


def _read(path: Path, rel: str, builtin: bool) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read model file: {exc}", file=_display(rel, builtin)) from None


def _display(rel: str, builtin: bool) -> str:
    return f"builtin:{rel}" if builtin else f"{MODELS_DIR}/{rel}"


def _audit_root(project: Project, builtin: bool) -> Path:
    """Custom audit files are found relative to the project (or, for built-in models, to the built-in models)."""
    return builtin_dir() if builtin else project.root
