"""Generate ``src/officina/zeyos/registry/catalog.py`` from the vendor's published references.

Reads the ZeyOS OpenAPI document (``api.json``) and the vendor's PostgreSQL schema reference
(``dbref.json``) and writes a compact, deterministic Python module holding one ``Entity`` per
REST resource. Only facts are carried over (names, types, nullability, defaults, enums, ranges,
patterns, reference targets and ON DELETE actions, indexes, extension storage); no description
text. Decisions taken by hand live in ``overrides.py`` and are applied on top at import time.

Usage::

    python3 tools/gen_registry.py [REFERENCE_DIR] [--output PATH] [--check]

``REFERENCE_DIR`` defaults to ``../shared/reference/zeyos`` relative to the repository root.
``--check`` writes nothing and exits with status 1 when the committed module is out of date.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REF = ROOT.parent / "shared" / "reference" / "zeyos"
TARGET = ROOT / "src" / "officina" / "zeyos" / "registry" / "catalog.py"
SCRIPT = "tools/gen_registry.py"

# Operations: (path suffix, HTTP method) -> Op member name, in Op declaration order.
OPERATIONS: tuple[tuple[str, str, str], ...] = (
    ("", "post", "LIST"),
    ("", "put", "CREATE"),
    ("/{ID}", "get", "GET"),
    ("/{ID}", "head", "HEAD"),
    ("/{ID}", "patch", "UPDATE"),
    ("/{ID}", "delete", "DELETE"),
)
ALL_OPS = tuple(op for _, _, op in OPERATIONS)
READ_ONLY_OPS = ("LIST", "GET", "HEAD")
LIST_ONLY_OPS = ("LIST",)

# Database column type -> Kind member name.
DB_KINDS = {
    "integer": "INT",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "double precision": "FLOAT",
    "text": "TEXT",
    "json": "JSON",
    "text[]": "TEXT_ARRAY",
    "bigint[]": "BIGINT_ARRAY",
    "t_entity": "ENTITY",
}
INTEGER_KINDS = frozenset({"INT", "BIGINT", "SMALLINT"})
NUMBER_KINDS = INTEGER_KINDS | {"FLOAT"}
TEXT_KINDS = frozenset({"TEXT", "VARCHAR"})

# Columns that are never "required" on create even when NOT NULL without default.
SERVER_FILLED = frozenset({"ID", "creationdate", "lastmodified", "creator"})
# Polymorphic reference parts (no database FK; worth an index when the vendor has one).
POLYMORPHIC = frozenset({"entity", "entity1", "entity2", "index", "index1", "index2"})

_VARCHAR = re.compile(r"^character varying\((\d+)\)$")
_ON_DELETE = re.compile(r"\bON DELETE (CASCADE|SET NULL)\b")
_CAST = re.compile(r"::[a-z ]+(\[\])?")
_POSITIVE_REGEX = re.compile(r"^CHECK \(VALUE(?:::text)? ~ '(.*)'::text\)$", re.S)
_NEGATIVE_REGEX = re.compile(r"^CHECK \(VALUE(?:::text)? !~ '(.*)'::text\)$", re.S)
_ANY_TEXT = re.compile(r"^CHECK \(VALUE = ANY \(ARRAY\[(.*)\]\)\)$", re.S)
_COMPARISON = re.compile(r"^VALUE (>=|>|<=|<|<>) (.+)$")
_SINGLE_LINE_ALTERNATIVE = "[\\r\\n]"
_DATE_COLUMN = re.compile(r"^(date\w*|\w*date)$")


class ReferenceMismatch(Exception):
    """The reference files contain something this generator does not know how to map."""


# -- reading the references ------------------------------------------------------------------


@dataclass
class Checks:
    """Domain checks of one column, already parsed."""

    positive_patterns: list[str] = field(default_factory=list)
    negative_patterns: list[str] = field(default_factory=list)
    text_choices: list[str] | None = None
    low: float | None = None  # inclusive lower bound
    high: float | None = None  # inclusive upper bound
    exclusive_low: float | None = None  # strict lower bound ("VALUE > n")
    other: list[str] = field(default_factory=list)


def _sql_string(literal: str) -> str:
    return literal.replace("''", "'")


def _sql_number(text: str) -> float:
    bare = _CAST.sub("", text.strip()).strip("'")
    return float(bare)


def _python_regex(pg_regex: str) -> str:
    """A PostgreSQL (ARE) pattern as used by the vendor, written for Python's ``re``."""
    return _sql_string(pg_regex).replace("\\/", "/")


def _parse_check(definition: str, checks: Checks) -> None:
    if m := _POSITIVE_REGEX.match(definition):
        checks.positive_patterns.append(_python_regex(m.group(1)))
        return
    if m := _NEGATIVE_REGEX.match(definition):
        checks.negative_patterns.append(_sql_string(m.group(1)))
        return
    if m := _ANY_TEXT.match(definition):
        checks.text_choices = [_sql_string(v) for v in re.findall(r"'((?:[^']|'')*)'::text", m[1])]
        return
    body = definition.removeprefix("CHECK (").removesuffix(")")
    terms = body.split(" AND ")
    parsed = [_COMPARISON.match(t.strip()) for t in terms]
    if not all(parsed):
        checks.other.append(definition)
        return
    for m in parsed:
        assert m is not None
        op, number = m.group(1), _sql_number(m.group(2))
        if op == ">=":
            checks.low = number if checks.low is None else max(checks.low, number)
        elif op == ">":
            checks.exclusive_low = number
        elif op == "<=":
            checks.high = number if checks.high is None else min(checks.high, number)
        else:  # "<" and "<>" have no Field counterpart; cross-field rules handle them.
            checks.other.append(definition)


def _column_of_domain(domain: str, entity: str, columns: Iterable[str]) -> str | None:
    """Column a domain check belongs to: ``dc_<entity>_<column>`` or a shared domain."""
    names = set(columns)
    own = domain.removeprefix(f"{entity}_")
    if own != domain and own in names:
        return own
    candidates = [c for c in names if domain.endswith(f"_{c}")]
    return max(candidates, key=len) if candidates else None


def _domain_checks(table: dict[str, Any], entity: str) -> dict[str, Checks]:
    columns = [f["name"] for f in table["fields"]]
    out: dict[str, Checks] = {}
    for c in table["constraints"]:
        if c["type"] != "check" or not c["domain"]:
            continue
        column = _column_of_domain(c["name"].removeprefix("dc_"), entity, columns)
        if column is None:
            raise ReferenceMismatch(f"{entity}: cannot place domain check {c['name']}")
        _parse_check(c["def"], out.setdefault(column, Checks()))
    return out


def _on_delete(table: dict[str, Any]) -> dict[str, str]:
    """FK constraint name -> ON DELETE action ("CASCADE", "SET_NULL" or "NONE")."""
    out: dict[str, str] = {}
    for c in table["constraints"]:
        if c["type"] == "foreign_key":
            m = _ON_DELETE.search(c["def"])
            out[c["name"]] = m.group(1).replace(" ", "_") if m else "NONE"
    return out


def _resolve(schemas: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """The plain (scalar) variant of a property: follow ``$ref`` and take ``oneOf``'s first."""
    if "$ref" in prop:
        return _resolve(schemas, schemas[prop["$ref"].rsplit("/", 1)[1]])
    if "oneOf" in prop:
        return _resolve(schemas, prop["oneOf"][0])
    return prop


# -- mapping one column ----------------------------------------------------------------------


def _kind(entity: str, name: str, dbf: dict[str, Any] | None, prop: dict[str, Any]) -> str:
    if entity == "binfiles" and name == "hash":
        return "HASH"
    if dbf is not None:
        db_type = dbf["type"]
        if _VARCHAR.match(db_type):
            return "VARCHAR"
        if db_type in DB_KINDS:
            return DB_KINDS[db_type]
        raise ReferenceMismatch(f"{entity}.{name}: unmapped database type {db_type!r}")
    api_type, fmt = prop.get("type"), prop.get("format")
    if api_type == "integer":
        return {"int64": "BIGINT", "int32": "INT"}.get(fmt or "", "SMALLINT")
    if api_type == "number":
        return "INT" if fmt == "int32" else "FLOAT"
    if api_type == "string":
        return "TEXT"
    raise ReferenceMismatch(f"{entity}.{name}: unmapped API type {api_type!r}")


def _literal(raw: str, kind: str) -> Any:
    if "now()" in raw:
        return "NOW"
    text = _CAST.sub("", raw.strip())
    if text.upper() == "NULL":
        return None
    if text.startswith("'") and text.endswith("'"):
        text = _sql_string(text[1:-1])
        if kind not in NUMBER_KINDS:
            return text
    if kind in INTEGER_KINDS:
        return int(text)
    if kind == "FLOAT":
        return float(text)
    raise ReferenceMismatch(f"unmapped default {raw!r} for kind {kind}")


def _api_default(prop: dict[str, Any], kind: str) -> Any:
    value = prop.get("default")
    if value is None:
        return None
    if kind == "FLOAT":
        return float(value)
    return value


def _number(value: float, kind: str) -> int | float:
    if kind in INTEGER_KINDS or float(value).is_integer():
        return int(value)
    return float(value)


@dataclass
class Column:
    name: str
    kind: str
    nullable: bool = False
    default: Any = None
    required: bool = False
    max_length: int | None = None
    choices: tuple[Any, ...] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    pattern: str | None = None
    ref: str | None = None
    on_delete: str = "NONE"
    multiline: bool = False
    readonly: bool = False
    indexed: bool = False


def _column(
    entity: str,
    name: str,
    prop: dict[str, Any],
    dbf: dict[str, Any] | None,
    checks: Checks,
    actions: dict[str, str],
    entities: frozenset[str],
    searchable: frozenset[str],
    pk_kind: str,
) -> Column:
    kind = _kind(entity, name, dbf, prop)
    fkeys = dbf["fkeys"] if dbf is not None else []
    target = fkeys[0]["table"] if fkeys else None
    binfile = target == "binfiles" and name.endswith("binfile")
    if binfile:
        kind = "BINFILE"
    if name == "ID":
        kind = pk_kind
    col = Column(name, kind)

    # nullability and defaults: the database is what stores the row.
    if name != "ID":
        col.nullable = (not dbf["notnull"]) if dbf is not None else bool(prop.get("nullable"))
    if dbf is not None:
        col.default = _literal(dbf["default"], kind) if dbf["default"] is not None else None
    else:
        col.default = _api_default(prop, kind)
    if name == "creator":
        col.default = "CALLER"
    col.required = (
        dbf is not None
        and dbf["notnull"]
        and dbf["default"] is None
        and not dbf["identity"]
        and name not in SERVER_FILLED
    )

    # bounds of text
    if dbf is not None and (m := _VARCHAR.match(dbf["type"])):
        col.max_length = int(m.group(1))
    elif isinstance(prop.get("maxLength"), int) and kind in TEXT_KINDS:
        col.max_length = prop["maxLength"]
    if kind in TEXT_KINDS:
        patterns = checks.positive_patterns or (
            [_python_regex(dbf["pattern"])] if dbf is not None and dbf["pattern"] else []
        )
        if not patterns and prop.get("pattern"):
            patterns = [prop["pattern"]]
        col.pattern = patterns[0] if patterns else None

    # enumerations and ranges
    enum = [v for v in prop.get("enum", []) if v is not None]
    if kind in INTEGER_KINDS and enum:
        if checks.low is not None and checks.high is not None:
            allowed = list(range(int(checks.low), int(checks.high) + 1))
            # The database domain is what the vendor enforces: it wins where they disagree.
            enum = enum if sorted(enum) == allowed else allowed
        col.choices = tuple(enum)
    elif kind in TEXT_KINDS or kind == "ENTITY":
        if enum:
            col.choices = tuple(enum)
        elif checks.text_choices is not None:
            col.choices = tuple(checks.text_choices)
    if kind in NUMBER_KINDS and col.choices is None:
        low = checks.low
        if checks.exclusive_low is not None:
            strict = checks.exclusive_low + 1 if kind in INTEGER_KINDS else checks.exclusive_low
            low = strict if low is None else max(low, strict)
        if "minimum" in prop:
            api_low = prop["minimum"]
            if prop.get("exclusiveMinimum") is True and kind in INTEGER_KINDS:
                api_low += 1
            low = api_low if low is None else max(low, api_low)
        high = checks.high
        if "maximum" in prop:
            high = prop["maximum"] if high is None else min(high, prop["maximum"])
        col.minimum = None if low is None else _number(low, kind)
        col.maximum = None if high is None else _number(high, kind)

    # references
    if target is not None and target in entities:
        col.ref = target
        col.on_delete = "NONE" if binfile else actions.get(fkeys[0]["name"], "NONE")
    elif name == "creator":
        col.ref = "users"

    # text shape: a "[\r\n]" alternative in a forbidden-pattern check means single-line.
    if kind in TEXT_KINDS:
        single_line = any(
            _SINGLE_LINE_ALTERNATIVE in p.split("|") for p in checks.negative_patterns
        )
        constrained = col.pattern is not None or col.choices is not None
        col.multiline = not single_line and not constrained

    col.readonly = binfile
    vendor_index = dbf is not None and bool(dbf["indexed"])
    col.indexed = name != "ID" and (
        col.ref is not None
        or name in searchable
        or (
            vendor_index
            and (
                (kind == "BIGINT" and _DATE_COLUMN.match(name) is not None)
                or name in POLYMORPHIC
                or kind == "HASH"
            )
        )
    )
    return col


# -- one entity ------------------------------------------------------------------------------


@dataclass
class EntitySpec:
    name: str
    columns: list[Column]
    ops: tuple[str, ...]
    pk_kind: str
    owner: str
    extdata: bool
    tags: bool
    searchable: tuple[str, ...]
    operation_ids: tuple[tuple[str, str], ...]


def entity_names(api: dict[str, Any]) -> list[str]:
    """Resources of the API: collection paths ``/{entity}`` with a schema of that name."""
    schemas = api["components"]["schemas"]
    names = {p.strip("/") for p in api["paths"] if p.count("/") == 1}
    return sorted(n for n in names if n in schemas)


def build(api: dict[str, Any], dbref: list[dict[str, Any]]) -> list[EntitySpec]:
    tables = {t["name"]: t for t in dbref}
    schemas = api["components"]["schemas"]
    names = entity_names(api)
    entities = frozenset(names)
    out: list[EntitySpec] = []
    for name in names:
        table = tables.get(name)
        if table is None:
            raise ReferenceMismatch(f"{name}: no table in the database reference")
        props: dict[str, Any] = schemas[name]["properties"]
        db_fields = {f["name"]: f for f in table["fields"]}
        checks = _domain_checks(table, name)
        actions = _on_delete(table)
        trigram = {
            i["keys"][0]
            for i in table["indexes"]
            if "gin_trgm_ops" in i["def"] and len(i["keys"]) == 1
        }
        searchable = tuple(c for c in props if c in trigram)

        ops: list[str] = []
        op_ids: list[tuple[str, str]] = []
        for suffix, method, op in OPERATIONS:
            operation = api["paths"].get(f"/{name}{suffix}", {}).get(method)
            if operation is not None:
                ops.append(op)
                op_ids.append((op.lower(), operation["operationId"]))

        pk_kind = "BIGINT" if _resolve(schemas, props["ID"]).get("format") == "int64" else "INT"
        columns = [
            _column(
                name,
                column,
                _resolve(schemas, prop),
                db_fields.get(column),
                checks.get(column, Checks()),
                actions,
                entities,
                frozenset(searchable),
                pk_kind,
            )
            for column, prop in props.items()
        ]
        present = set(props)
        owner = (
            "USER_GROUP"
            if {"owneruser", "ownergroup"} <= present
            else "GROUP"
            if "ownergroup" in present
            else "NONE"
        )
        out.append(
            EntitySpec(
                name=name,
                columns=columns,
                ops=tuple(ops),
                pk_kind=pk_kind,
                owner=owner,
                extdata=f"extdataregular_{name}" in tables,
                tags=f"tagrels_{name}" in tables,
                searchable=searchable,
                operation_ids=tuple(op_ids),
            )
        )
    return out


def canonical_entity_names(api: dict[str, Any]) -> tuple[str, ...]:
    """Entity names every polymorphic (``t_entity``) column accepts, in API order."""
    schemas = api["components"]["schemas"]
    lists: list[list[str]] = []
    for name in entity_names(api):
        for prop in schemas[name]["properties"].values():
            enum = _resolve(schemas, prop).get("enum") or []
            values = [v for v in enum if v is not None]
            if values and all(isinstance(v, str) and v in schemas for v in values):
                lists.append(values)
    if not lists:
        raise ReferenceMismatch("no polymorphic entity list found")
    common = set(lists[0]).intersection(*lists[1:])
    return tuple(v for v in lists[0] if v in common)


# -- rendering -------------------------------------------------------------------------------

_FIELD_DEFAULTS = Column("", "")


def _value(value: Any) -> str:
    if value in ("NOW", "CALLER"):
        return f"D.{value}"
    return repr(value)


def _field_source(col: Column) -> str:
    parts = [repr(col.name), f"K.{col.kind}"]
    for key in (
        "nullable",
        "default",
        "required",
        "max_length",
        "choices",
        "minimum",
        "maximum",
        "pattern",
        "ref",
        "on_delete",
        "multiline",
        "readonly",
        "indexed",
    ):
        value = getattr(col, key)
        if value == getattr(_FIELD_DEFAULTS, key) and type(value) is type(
            getattr(_FIELD_DEFAULTS, key)
        ):
            continue
        if key == "on_delete":
            parts.append(f"on_delete=X.{value}")
        elif key == "default":
            parts.append(f"default={_value(value)}")
        else:
            parts.append(f"{key}={value!r}")
    return f"F({', '.join(parts)}),"


def _ops_source(ops: Sequence[str]) -> str | None:
    if tuple(ops) == ALL_OPS:
        return None
    if tuple(ops) == READ_ONLY_OPS:
        return "READ_ONLY_OPS"
    if tuple(ops) == LIST_ONLY_OPS:
        return "LIST_ONLY_OPS"
    return "frozenset({" + ", ".join(f"Op.{o}" for o in ops) + "})"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _imports(body: str) -> list[str]:
    """Import lines for the names ``body`` uses, in the order ruff's isort wants them."""
    plain = [n for n in ("LIST_ONLY_OPS", "READ_ONLY_OPS") if n in body]
    plain += ["Entity"] + [n for n in ("Op", "Owner") if f"{n}." in body]
    lines = [f"from officina.zeyos.registry.model import {', '.join(plain)}"]
    for name, alias in (("Default", "D"), ("Field", "F"), ("Kind", "K"), ("OnDelete", "X")):
        if f"{alias}." in body or f"{alias}(" in body:
            lines.append(f"from officina.zeyos.registry.model import {name} as {alias}")
    return lines


def render(specs: list[EntitySpec], canonical: tuple[str, ...], sources: dict[str, str]) -> str:
    body = ["CATALOG: dict[str, Entity] = {"]
    for spec in specs:
        body.append(f"    {spec.name!r}: Entity(")
        body.append(f"        name={spec.name!r},")
        body.append("        fields=(")
        body.extend(f"            {_field_source(c)}" for c in spec.columns)
        body.append("        ),")
        if (ops := _ops_source(spec.ops)) is not None:
            body.append(f"        ops={ops},")
        if spec.pk_kind != "INT":
            body.append(f"        pk_kind=K.{spec.pk_kind},")
        if spec.owner != "NONE":
            body.append(f"        owner=Owner.{spec.owner},")
        if spec.extdata:
            body.append("        extdata=True,")
        if spec.tags:
            body.append("        tags=True,")
        if spec.searchable:
            body.append(f"        searchable={spec.searchable!r},")
        body.append(f"        operation_ids={spec.operation_ids!r},")
        body.append("    ),")
    body.append("}")
    body.append("")
    body.append(f"CANONICAL_ENTITY_NAMES: tuple[str, ...] = {canonical!r}")
    text = "\n".join(body)
    header = [
        f"# Generated by {SCRIPT} from the vendor references; do not edit by hand.",
        f"# Regenerate with: python3 {SCRIPT} [REFERENCE_DIR]",
        "# Sources (sha256 prefix): "
        + ", ".join(f"{name} {digest}" for name, digest in sorted(sources.items())),
        "# Hand decisions are applied on top of this module by overrides.py.",
        "# ruff: noqa: E501",
        '"""Generated ZeyOS entity catalogue (see tools/gen_registry.py)."""',
        "",
        *_imports(text),
        "",
    ]
    return "\n".join(header) + "\n" + text + "\n"


def generate(ref_dir: Path) -> str:
    api_path, db_path = ref_dir / "api.json", ref_dir / "dbref.json"
    api = json.loads(api_path.read_text(encoding="utf-8"))
    dbref = json.loads(db_path.read_text(encoding="utf-8"))
    sources = {"api.json": _digest(api_path), "dbref.json": _digest(db_path)}
    return render(build(api, dbref), canonical_entity_names(api), sources)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("reference", nargs="?", type=Path, default=DEFAULT_REF)
    parser.add_argument("--output", type=Path, default=TARGET)
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    args = parser.parse_args(argv)
    try:
        source = generate(args.reference)
    except (OSError, ReferenceMismatch, KeyError, ValueError) as exc:
        print(f"gen_registry: {exc}", file=sys.stderr)
        return 2
    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != source:
            print(f"gen_registry: {output} is out of date", file=sys.stderr)
            return 1
        return 0
    output.write_text(source, encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
