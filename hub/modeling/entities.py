"""The entities: those identity resolution unifies (person, company), and the business records linked to them
(lead, deal, order, invoice, payment, ticket): their record contracts and the generated unions.

A staging model declares ``-- entity: person`` to feed ``staging.person_records``, the union of every such model with
``connection`` and ``stream`` columns added. The union is generated because the connections are the user's: two accounts
of one CRM give two staging models, each in the union. A member names its columns like the contract below; columns it
lacks are NULL, columns beyond the contract are carried along for project models to use. A project's own entity model
(say a CSV of event attendees) joins too, its table name standing in for connection and stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.modeling.model import Header, Model, Position, Ref
from hub.warehouse.sql import literal, qualified


@dataclass(frozen=True)
class Entity:
    """What identity resolution needs to know about one kind of record."""

    name: str
    columns: tuple[tuple[str, str], ...]        # the contract: (column, DuckDB type), in output order
    required: tuple[str, ...]
    survivable: tuple[str, ...]                 # fields [models.<entity>] priority may rank sources for
    #: True: identity resolution merges the records into one <entity>_id across connections (person, company);
    #: False: each record is its own, with a stable id, linked to persons and companies (order, ticket, ...)
    resolved: bool = True

    @property
    def union(self) -> str:
        return f"staging.{self.name}_records"

    @property
    def identity(self) -> str:
        return f"_hub.{self.name}_identity"

    @property
    def tables(self) -> tuple[str, ...]:
        """Everything the identity step writes in ``_hub``."""
        return tuple(f"_hub.{self.name}_{t}" for t in ("identity", "changes", "merges", "ids", "priority"))

    def type_of(self, column: str) -> str | None:
        return dict(self.columns).get(column)


PERSON = Entity(
    name="person",
    columns=(("source_id", "VARCHAR"), ("email", "VARCHAR"), ("first_name", "VARCHAR"), ("last_name", "VARCHAR"),
             ("phone", "VARCHAR"), ("mobile_phone", "VARCHAR"), ("company_name", "VARCHAR"),
             ("company_stream", "VARCHAR"), ("company_source_id", "VARCHAR"), ("job_title", "VARCHAR"),
             ("city", "VARCHAR"), ("country", "VARCHAR"), ("lifecycle_stage", "VARCHAR"), ("lead_source", "VARCHAR"),
             ("created_at", "TIMESTAMPTZ"), ("updated_at", "TIMESTAMPTZ")),
    required=("source_id", "updated_at"),
    survivable=("email", "first_name", "last_name", "phone", "mobile_phone", "company_name", "job_title", "city",
                "country", "lifecycle_stage", "lead_source"),
)
COMPANY = Entity(
    name="company",
    columns=(("source_id", "VARCHAR"), ("name", "VARCHAR"), ("domain", "VARCHAR"), ("phone", "VARCHAR"),
             ("industry", "VARCHAR"), ("city", "VARCHAR"), ("country", "VARCHAR"), ("employee_count", "BIGINT"),
             ("annual_revenue", "DOUBLE"), ("created_at", "TIMESTAMPTZ"), ("updated_at", "TIMESTAMPTZ")),
    required=("source_id", "updated_at"),
    survivable=("name", "domain", "phone", "industry", "city", "country", "employee_count", "annual_revenue"),
)
ENTITIES = {e.name: e for e in (PERSON, COMPANY)}


def _record(name: str, *columns: tuple[str, str]) -> Entity:
    """A business record entity: its own contract, between ``source_id`` and the timestamps every record has."""
    return Entity(name=name, columns=(("source_id", "VARCHAR"), *columns, ("created_at", "TIMESTAMPTZ"),
                                      ("updated_at", "TIMESTAMPTZ")),
                  required=("source_id", "updated_at"), survivable=(), resolved=False)


V, MONEY, TS = "VARCHAR", "DECIMAL(18,2)", "TIMESTAMPTZ"   # amounts are decimals with their currency, never floats
PERSON_LINK = (("person_stream", V), ("person_source_id", V))
COMPANY_LINK = (("company_stream", V), ("company_source_id", V))
#: The business records: a staging model declares ``-- entity: order`` (say) to feed ``staging.order_records``, and
#: ``canonical.order`` gives each record a stable ``order_id`` and links it to ``canonical.person`` (through
#: ``person_stream``/``person_source_id``, the record's customer in the same connection, else its email) and
#: ``canonical.company``.
RECORDS = {e.name: e for e in (
    _record("lead", ("email", V), ("first_name", V), ("last_name", V), ("phone", V), ("company_name", V),
            ("status", V), ("lead_source", V), ("converted", "BOOLEAN"), *PERSON_LINK),
    _record("deal", ("name", V), ("stage", V), ("is_closed", "BOOLEAN"), ("is_won", "BOOLEAN"), ("amount", MONEY),
            ("currency", V), ("close_date", "DATE"), *PERSON_LINK, *COMPANY_LINK),
    _record("order", ("order_number", V), ("email", V), ("status", V), ("financial_status", V), ("total", MONEY),
            ("subtotal", MONEY), ("tax", MONEY), ("currency", V), *PERSON_LINK, ("cancelled_at", TS)),
    _record("invoice", ("number", V), ("email", V), ("status", V), ("total", MONEY), ("balance", MONEY),
            ("currency", V), ("due_date", "DATE"), ("order_ref", V), *PERSON_LINK),
    _record("payment", ("amount", MONEY), ("currency", V), ("status", V), ("invoice_stream", V),
            ("invoice_source_id", V), *PERSON_LINK, ("paid_at", TS)),
    _record("ticket", ("subject", V), ("status", V), ("priority", V), ("email", V), *PERSON_LINK, *COMPANY_LINK),
)}
#: Every entity a staging model may feed, by name: each has a generated ``staging.<entity>_records`` union.
UNIONS = {**ENTITIES, **RECORDS}


def union_model(entity: Entity, members: list[Model], types: dict[str, str] | None = None) -> Model:
    """The generated ``staging.<entity>_records`` over ``members`` (their SQL decides the union's columns);
    ``types``: the type of each column beyond the contract, where known (the members as built: see
    :func:`union_sql`)."""
    for member in members:
        missing = [c for c in entity.required if member.columns and c not in member.columns]
        if missing:
            raise member.error(f"an `entity: {entity.name}` model needs the column(s) {', '.join(missing)}",
                               hint=f"see the {entity.name} record columns in hub/modeling/entities.py")
        if not member.columns:
            raise member.error(f"an `entity: {entity.name}` model must name its columns (no SELECT *)",
                               hint="list the columns so the union can line them up")
    return Model(name=entity.union, kind="union", header=Header(materialized="view",
                                                               description=f"Every {entity.name} record, "
                                                                           "from every connection."),
                 file=f"generated:{entity.union}",
                 refs=tuple(Ref(m.schema, m.table, Position()) for m in members),
                 columns=tuple(union_columns(entity, members)), sql=union_sql(entity, members, types))


def union_columns(entity: Entity, members: list[Model]) -> list[str]:
    """``connection``, ``stream``, every contract column (NULL where no member has it), then members' extras."""
    known = [c for c, _ in entity.columns]
    extra = [c for m in members for c in m.columns if entity.type_of(c) is None]
    return ["connection", "stream", *known, *dict.fromkeys(extra)]


def union_sql(entity: Entity, members: list[Model], types: dict[str, str] | None = None) -> str:
    """``SELECT ... UNION ALL SELECT ...`` lining up every member's columns under the union's names.

    With no members (nothing ingested yet) it is an empty relation of the right shape, so that everything built from
    it still builds, empty. A member that lacks a column gets a NULL of the column's type: the contract's, else
    ``types`` (what another member's column is). DuckDB would type a bare NULL from the other branches; PostgreSQL
    resolves a UNION pair by pair from the left, so a bare NULL is text and refuses to meet a number.
    """
    types = types or {}
    columns = union_columns(entity, members)[2:]
    if not members:
        typed = [f"CAST(NULL AS VARCHAR) AS {c}" for c in ("connection", "stream")]
        typed += [f"CAST(NULL AS {entity.type_of(c)}) AS {c}" for c in columns]
        return "SELECT\n  " + ",\n  ".join(typed) + "\nWHERE false"
    parts = []
    for member in members:
        have = set(member.columns)
        # A project's own source (a CSV it loads, say) has no connection: its table name stands in for one.
        exprs = [f"{literal(member.connection or member.table)} AS connection",
                 f"{literal(member.stream or member.table)} AS stream"]
        for column in columns:
            kind = entity.type_of(column)
            if column in have:
                exprs.append(f"CAST({column} AS {kind}) AS {column}" if kind else column)
            else:
                # A column of unknown type (compiling, not building) stays an untyped NULL: DuckDB types it from the
                # other members.
                typed = kind or types.get(column)
                exprs.append(f"CAST(NULL AS {typed}) AS {column}" if typed else f"NULL AS {column}")
        parts.append("SELECT\n  " + ",\n  ".join(exprs) + f"\nFROM {qualified(member.schema, member.table)}")
    return "\nUNION ALL\n".join(parts)
