"""The records-face query language compiled to one SQL statement per request.

Nothing a caller sends is spliced into SQL text: every path is resolved against the entity
registry to a column object, output aliases never reach SQL (selected columns are labelled
``c0 … cN`` and renamed in Python), and every value is a bound parameter.
"""

from __future__ import annotations

import operator
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from sqlalchemy import (
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from officina.core.auth import Principal
from officina.core.errors import HttpError, bad_request, short
from officina.core.sqlfuncs import byte_order, check_regex, lowered, regex_imatch, regex_match
from officina.zeyos import access
from officina.zeyos.limits import LIMITS
from officina.zeyos.registry import ENTITIES
from officina.zeyos.registry.model import (
    EXPANDABLE_KINDS,
    INTEGER_KINDS,
    STRUCTURED_KINDS,
    TEXT_KINDS,
    Entity,
    Field,
    Kind,
)
from officina.zeyos.tables import extdata as extdata_t
from officina.zeyos.tables import table, tagnames, tagrels
from officina.zeyos.values import as_float, as_int, as_text

DEFAULT_LIMIT = 1000
MAX_FIELDS = 256
MAX_EXPAND = 32
MAX_QUERY_CHARS = 1000
MAX_REGEX = 256
INT_KEY = re.compile(r"^(0|[1-9][0-9]*)$")
LOGIC = {"AND", "OR", "NOT"}
# Each comparison is built only when asked for: building an SQL expression costs more than
# most filters take to run.
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass
class Resolved:
    """A field path resolved to SQL."""

    path: str
    expr: ColumnElement[Any]
    kind: Kind
    # Extension values also have a numeric copy for numeric comparisons.
    number: ColumnElement[Any] | None = None
    nullable: bool = True
    pseudo: str | None = None  # "extdata" or "tags" for the aggregated pseudo-fields


@dataclass
class Output:
    key: str
    resolved: Resolved
    expanded: bool = False


@dataclass
class ListQuery:
    """A parsed list request."""

    outputs: list[Output]
    where: list[ColumnElement[bool]]
    order: list[tuple[Resolved, bool]]  # (key, descending)
    limit: int
    offset: int
    count: bool
    distinct: bool
    binfile_outputs: list[str] = field(default_factory=list)


def invalid(what: str, name: Any) -> HttpError:
    return bad_request(f"Invalid {what} '{short(name)}'", field=str(name))


def _holds_nul(operand: Any) -> bool:
    if isinstance(operand, str):
        return "\x00" in operand
    if isinstance(operand, list):
        return any(_holds_nul(item) for item in operand)
    if isinstance(operand, dict):
        return any(_holds_nul(item) for item in operand.values())
    return False


class Compiler:
    """Resolves paths and builds the statement for one entity and one caller."""

    def __init__(self, entity: Entity, principal: Principal, dialect: str) -> None:
        self.entity = entity
        self.principal = principal
        self.dialect = dialect
        self.base = table(entity.name)
        self._joins: dict[str, Any] = {}
        self._ext_joins: dict[str, Any] = {}
        self._conditions = 0
        # (operand as sent, its conversion) of every bound operand, in binding order.
        self.slots: list[tuple[Any, Callable[[Any], Any]]] = []
        # The select list of the outputs, labelled, when the projection cache made it.
        self.selection: Select[Any] | None = None

    # -- paths ----------------------------------------------------------------------------

    def resolve(self, path: Any, what: str) -> Resolved:
        if not isinstance(path, str) or not path:
            raise invalid(what, path)
        if path.startswith("extdata."):
            name = path[len("extdata.") :]
            if not self.entity.extdata or not name:
                raise invalid(what, path)
            return self._extdata(path, name)
        own = self.entity.field(path)
        if own is not None:
            return Resolved(path, self.base.c[own.name], own.kind, nullable=own.nullable)
        ref_name, dot, column = path.partition(".")
        if dot:
            ref = self.entity.field(ref_name)
            if ref is None or ref.ref is None or ref.ref not in ENTITIES:
                raise invalid(what, path)
            target = ENTITIES[ref.ref]
            target_field = target.field(column)
            if target_field is None:
                raise invalid(what, path)
            alias = self._join(ref, target)
            return Resolved(path, alias.c[target_field.name], target_field.kind)
        raise invalid(what, path)

    def _join(self, ref: Field, target: Entity) -> Any:
        alias = self._joins.get(ref.name)
        if alias is None:
            alias = table(target.name).alias(f"j{len(self._joins)}")
            self._joins[ref.name] = alias
        return alias

    def _extdata(self, path: str, name: str) -> Resolved:
        alias = self._ext_joins.get(name)
        if alias is None:
            alias = extdata_t.alias(f"x{len(self._ext_joins)}")
            self._ext_joins[name] = alias
        return Resolved(path, alias.c.value, Kind.TEXT, number=alias.c.number)

    def pseudo(self, name: str) -> Resolved:
        """Correlated aggregate of all extension values or tags of the row."""
        ent = literal(self.entity.name)
        if name == "extdata":
            agg = (
                func.json_group_object(extdata_t.c.name, extdata_t.c.value)
                if self.dialect == "sqlite"
                else func.json_object_agg(extdata_t.c.name, extdata_t.c.value)
            )
            sub = (
                select(agg)
                .where(extdata_t.c.entity == ent, extdata_t.c["index"] == self.base.c.ID)
                .scalar_subquery()
            )
        else:
            agg = (
                func.json_group_array(tagnames.c.name)
                if self.dialect == "sqlite"
                else func.json_agg(tagnames.c.name)
            )
            sub = (
                select(agg)
                .select_from(tagrels.join(tagnames, tagnames.c.ID == tagrels.c.tag))
                .where(tagrels.c.entity == ent, tagrels.c["index"] == self.base.c.ID)
                .scalar_subquery()
            )
        return Resolved(name, sub, Kind.JSON, pseudo=name)

    def from_clause(self) -> Any:
        """Base table with the LEFT JOINs the resolved paths need."""
        source: Any = self.base
        for ref_name, alias in self._joins.items():
            target = ENTITIES[self.entity.field(ref_name).ref]  # type: ignore[union-attr,index]
            on = alias.c.ID == self.base.c[ref_name]
            seen = access.reachable(target, alias, self.principal)
            if seen is not None:
                on = and_(on, seen)
            source = source.outerjoin(alias, on)
        for name, alias in self._ext_joins.items():
            source = source.outerjoin(
                alias,
                and_(
                    alias.c.entity == self.entity.name,
                    alias.c["index"] == self.base.c.ID,
                    alias.c.name == name,
                ),
            )
        return source

    # -- filters --------------------------------------------------------------------------

    def filter(self, node: Any, depth: int = 1) -> ColumnElement[bool]:
        if depth > LIMITS.filter_depth:
            raise bad_request("Filter nested too deeply")
        if isinstance(node, list):
            return self._group(node, depth)
        if isinstance(node, dict):
            if not node:
                raise bad_request("Invalid filter: empty condition object")
            terms = []
            for key, value in node.items():
                if INT_KEY.match(str(key)):
                    if not isinstance(value, list | dict):
                        raise bad_request(f"Invalid filter group '{short(key)}'")
                    terms.append(self.filter(value, depth + 1))
                else:
                    terms.append(self._member(str(key), value))
            return and_(*terms) if len(terms) > 1 else terms[0]
        raise bad_request("Invalid filter: expected an object or a group")

    def _group(self, items: list[Any], depth: int) -> ColumnElement[bool]:
        logic = "AND"
        elements = items
        if items and isinstance(items[0], str):
            logic = items[0].upper()
            if logic not in LOGIC:
                raise bad_request(f"Invalid filter logic '{short(items[0])}'")
            elements = items[1:]
        if not elements:
            raise bad_request("Invalid filter: empty group")
        terms = []
        for element in elements:
            if not isinstance(element, list | dict) or not element:
                raise bad_request("Invalid filter: group elements must be conditions")
            terms.append(self.filter(element, depth + 1))
        if logic == "OR":
            return or_(*terms)
        combined = and_(*terms) if len(terms) > 1 else terms[0]
        return not_(combined) if logic == "NOT" else combined

    def _member(self, path: str, condition: Any) -> ColumnElement[bool]:
        col = self.resolve(path, "filter field")
        if isinstance(condition, dict):
            if not condition:
                raise invalid("filter value for", path)
            terms = [self._op(col, str(op), operand) for op, operand in condition.items()]
            return and_(*terms) if len(terms) > 1 else terms[0]
        if isinstance(condition, list):
            return self._op(col, "IN", condition)
        return self._op(col, "=", condition)

    def _count(self) -> None:
        self._conditions += 1
        if self._conditions > LIMITS.filter_conditions:
            raise bad_request("Too many filter conditions")

    def _op(self, col: Resolved, op: str, operand: Any) -> ColumnElement[bool]:
        self._count()
        if _holds_nul(operand):
            # No stored text holds NUL (writes refuse it); SQLite would compare only up to
            # the NUL and PostgreSQL refuse the parameter, so both answer this 400 instead.
            raise invalid("filter value for", col.path)
        upper = op.upper()
        if upper in ("IN", "!IN"):
            return self._in(col, upper == "!IN", operand)
        if op in ("=", "!=", "<>"):
            negate = op != "="
            if operand is None:
                return col.expr.is_not(None) if negate else col.expr.is_(None)
            expr, value = self._operand(col, operand)
            return expr != value if negate else expr == value
        if op in ("<", "<=", ">", ">="):
            if operand is None:
                raise invalid("filter value for", col.path)
            expr, value = self._operand(col, operand)
            if col.kind in TEXT_KINDS and col.number is None:
                expr = byte_order(expr, self.dialect)
            return _COMPARE[op](expr, value)
        if op in ("~", "~*", "!~", "!~*"):
            pattern = self._string_operand(col, operand)
            if len(pattern) > MAX_REGEX or not check_regex(pattern):
                raise invalid("filter value for", col.path)
            construct = regex_imatch if op.endswith("*") else regex_match
            match = construct(col.expr, pattern)
            return not_(match) if op.startswith("!") else match
        if op in ("~~", "~~*", "!~~", "!~~*"):
            pattern = self._string_operand(col, operand)
            if op.endswith("*"):
                clause = lowered(col.expr).like(lowered(literal(pattern)), escape="\\")
            else:
                clause = col.expr.like(pattern, escape="\\")
            return not_(clause) if op.startswith("!") else clause
        raise bad_request(f"Invalid filter operator '{short(op)}'")

    def _string_operand(self, col: Resolved, operand: Any) -> str:
        if col.kind not in TEXT_KINDS:
            raise invalid("filter operator for", col.path)
        text = as_text(operand)
        if text is None or isinstance(operand, bool):
            raise invalid("filter value for", col.path)
        return text

    def _operand(self, col: Resolved, operand: Any) -> tuple[Any, Any]:
        """The expression to compare and the operand bound as a parameter, coerced to the
        column's type; extension values compare numerically when the operand is a JSON
        number."""
        expr, convert = _conversion(col, operand)
        return expr, self._bind(expr, operand, convert)

    def _bind(
        self, expr: Any, raw: Any, convert: Callable[[Any], Any], expanding: bool = False
    ) -> Any:
        """A named parameter holding ``convert(raw)``, recorded in :attr:`slots` so that a
        statement of the same shape can be run again with other operands (see
        :mod:`officina.zeyos.list_statements`)."""
        name = f"v{len(self.slots)}"
        value = convert(raw)
        self.slots.append((raw, convert))
        return bindparam(name, value, type_=expr.type, expanding=expanding)

    def _in(self, col: Resolved, negate: bool, operand: Any) -> ColumnElement[bool]:
        if not isinstance(operand, list):
            if isinstance(operand, dict) and all(INT_KEY.match(str(k)) for k in operand):
                operand = [operand[k] for k in sorted(operand, key=int)]
            else:
                operand = [operand]
        if len(operand) > LIMITS.in_items:
            raise bad_request("Too many values in IN filter")
        has_null = any(item is None for item in operand)
        items = [item for item in operand if item is not None]
        if not items:
            clause: ColumnElement[bool] = true() if negate else false()
        else:
            if col.number is not None and all(_is_number(i) for i in items):
                expr: Any = col.number
                convert: Callable[[Any], Any] = _numbers
            else:
                expr, convert = col.expr, partial(_values, col)
            values = self._bind(expr, items, convert, expanding=True)
            clause = expr.not_in(values) if negate else expr.in_(values)
        if negate:
            return and_(clause, col.expr.is_not(None)) if has_null else clause
        return or_(clause, col.expr.is_(None)) if has_null else clause

    # -- search ---------------------------------------------------------------------------

    def search(self, query: Any) -> ColumnElement[bool] | None:
        if query is None:
            return None
        if not isinstance(query, str):
            raise bad_request("Invalid query")
        text = query.strip()
        if not text:
            return None
        if "\x00" in text:
            raise bad_request("Invalid query: NUL character")
        if len(text) > MAX_QUERY_CHARS:
            raise bad_request("Invalid query: too long")
        try:
            terms = [t for t in shlex.split(text) if t]
        except ValueError:
            terms = text.split()
        if len(terms) > LIMITS.query_terms:
            raise bad_request(f"Invalid query: too many terms (at most {LIMITS.query_terms})")
        columns = [
            self._searchable(self.base.c[c], self.entity.field(c))
            for c in self.entity.searchable
            if self.entity.field(c)
        ]
        if not columns:
            return false()
        clauses = []
        for term in terms:
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = lowered(literal(f"%{escaped}%"))
            clauses.append(or_(*[lowered(c).like(pattern, escape="\\") for c in columns]))
        return and_(*clauses)

    @staticmethod
    def _searchable(column: Any, field: Field | None) -> Any:
        """Structured columns (JSON arrays such as serial numbers) are searched as text."""
        if field is not None and field.kind in STRUCTURED_KINDS:
            return cast(column, Text)
        return column

    # -- sort -----------------------------------------------------------------------------

    def sort_keys(self, resolved: Resolved, descending: bool) -> list[Any]:
        expr = resolved.expr
        keys = (
            [byte_order(lowered(expr), self.dialect), byte_order(expr, self.dialect)]
            if resolved.kind in TEXT_KINDS
            else [expr]
        )
        return [(k.desc().nulls_first() if descending else k.asc().nulls_last()) for k in keys]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _conversion(col: Resolved, operand: Any) -> tuple[Any, Callable[[Any], Any]]:
    """What an operand is compared with, and how it is coerced for it (decided by the
    operand's JSON type, never by its value)."""
    if col.number is not None:
        if _is_number(operand):
            return col.number, float
        return col.expr, partial(_extension_text, col)
    return col.expr, partial(coerce_operand, col)


def _extension_text(col: Resolved, operand: Any) -> str:
    text = as_text(operand)
    if text is None:
        raise invalid("filter value for", col.path)
    return text


def _numbers(items: list[Any]) -> list[float]:
    return [float(i) for i in items]


def _values(col: Resolved, items: list[Any]) -> list[Any]:
    return [_conversion(col, i)[1](i) for i in items]


def coerce_operand(col: Resolved, operand: Any) -> Any:
    kind = col.kind
    if kind in STRUCTURED_KINDS or kind == Kind.HASH:
        raise invalid("filter value for", col.path)
    if kind in INTEGER_KINDS:
        value = as_int(operand)
        if value is None or (isinstance(operand, float) and not operand.is_integer()):
            raise invalid("filter value for", col.path)
        return value
    if kind == Kind.FLOAT:
        real = as_float(operand)
        if real is None:
            raise invalid("filter value for", col.path)
        return real
    text = as_text(operand)
    if text is None:
        raise invalid("filter value for", col.path)
    return text


# -- list requests ------------------------------------------------------------------------------


def _flag(value: Any, name: str) -> bool:
    if value is None or value is False or value == 0:
        return False
    if value is True or value == 1:
        return True
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "0", "false", ""):
        return value.strip().lower() in ("1", "true")
    raise bad_request(f"Invalid {name}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(INT_KEY.match(str(k)) for k in value):
        return [value[k] for k in sorted(value, key=int)]
    return [value]


def no_filter(node: Any) -> bool:
    """A ``filter`` parameter that filters nothing (absent or empty)."""
    return node is None or node == "" or node == [] or node == {}


def decode_param(value: Any) -> Any:
    """Form data carries objects and arrays as JSON text."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise bad_request("Malformed form data") from None
    return value


def compile_list(
    entity: Entity, params: dict[str, Any], principal: Principal, dialect: str
) -> tuple[Compiler, ListQuery]:
    comp = Compiler(entity, principal, dialect)
    count = _flag(params.get("count"), "count")
    distinct = _flag(params.get("distinct"), "distinct")
    want_extdata = _flag(params.get("extdata"), "extdata")
    want_tags = _flag(params.get("tags"), "tags")

    # expand (extdata/tags inside expand act as the flags)
    expand_names: set[str] = set()
    for name in _as_list(decode_param(params.get("expand"))):
        if isinstance(name, str) and "," in name:
            expand_names.update(n.strip() for n in name.split(",") if n.strip())
        else:
            expand_names.add(name if isinstance(name, str) else repr(name))
    if len(expand_names) > MAX_EXPAND:
        raise bad_request("Too many expand names")
    if "extdata" in expand_names:
        expand_names.discard("extdata")
        want_extdata = True
    if "tags" in expand_names:
        expand_names.discard("tags")
        want_tags = True

    outputs = _projection(comp, params.get("fields"), expand_names, want_extdata, want_tags)
    by_key = {o.key: o for o in outputs}

    # where
    where: list[ColumnElement[bool]] = []
    visible = access.visibility(entity, comp.base, principal)
    if visible is not None:
        where.append(visible)
    for key in ("filter", "filters"):
        node = decode_param(params.get(key))
        if not no_filter(node):
            where.append(comp.filter(node))
    found = comp.search(params.get("query"))
    if found is not None:
        where.append(found)

    # sort
    order: list[tuple[Resolved, bool]] = []
    raw_sort = decode_param(params.get("sort"))
    sort_items = _as_list(raw_sort)
    if isinstance(raw_sort, str) and "," in raw_sort:
        sort_items = [s.strip() for s in raw_sort.split(",") if s.strip()]
    if len(sort_items) > LIMITS.sort_keys:
        raise bad_request(f"Too many sort keys (at most {LIMITS.sort_keys})")
    for item in sort_items:
        if not isinstance(item, str) or not item.strip():
            raise invalid("sort field", item)
        text = item.strip()
        descending = text.startswith("-")
        name = text[1:] if text[:1] in "+-" else text
        if name in by_key and by_key[name].resolved.pseudo is None:
            resolved = by_key[name].resolved
        else:
            resolved = comp.resolve(name, "sort field")
        if resolved.kind in STRUCTURED_KINDS or resolved.pseudo:
            raise invalid("sort field", name)
        if distinct and not any(o.resolved.path == resolved.path for o in outputs):
            raise invalid("sort field", name)
        order.append((resolved, descending))

    if distinct and any(o.resolved.pseudo for o in outputs):
        raise bad_request("Invalid selection: distinct with extdata or tags")

    limit, offset = paging(params)
    query = ListQuery(outputs, where, order, limit, offset, count, distinct)
    query.binfile_outputs = [
        o.key for o in outputs if o.expanded and o.resolved.kind == Kind.BINFILE
    ]
    return comp, query


@dataclass(frozen=True)
class _Projection:
    outputs: tuple[Output, ...]
    joins: dict[str, Any]
    ext_joins: dict[str, Any]
    # The select list, labelled as build_select would label it.
    selection: Select[Any]


# Selections already resolved, by entity, dialect and the request's selection parameters:
# resolving and labelling every column of an entity cost more than running a short list.
# What is kept is the shape of the SQL only (columns, joins, subqueries), never data or
# anything that depends on the caller: visibility is added to every statement afresh.
_PROJECTIONS: dict[tuple[Any, ...], _Projection] = {}
_PROJECTIONS_MAX = 256
# Wider selections are resolved every time, so the cache cannot be grown without bound.
_PROJECTION_MAX_OUTPUTS = 64


def _projection(
    comp: Compiler, fields: Any, expand: set[str], want_extdata: bool, want_tags: bool
) -> list[Output]:
    """The outputs of a list, from the cache when the same selection was resolved before.

    ``comp`` receives the joins the selection needs, so that filters and sort keys on the
    same paths reuse them."""
    flags = (want_extdata, want_tags)
    key = (comp.entity.name, comp.dialect, repr(fields), tuple(sorted(expand)), flags)
    found = _PROJECTIONS.get(key)
    if found is None:
        outputs = _resolve_outputs(comp, fields, expand, want_extdata, want_tags)
        if len(outputs) > _PROJECTION_MAX_OUTPUTS:
            return outputs
        selection = select(*[o.resolved.expr.label(f"c{i}") for i, o in enumerate(outputs)])
        found = _Projection(tuple(outputs), dict(comp._joins), dict(comp._ext_joins), selection)
        if len(_PROJECTIONS) >= _PROJECTIONS_MAX:
            _PROJECTIONS.clear()
        _PROJECTIONS[key] = found
    comp._joins.update(found.joins)
    comp._ext_joins.update(found.ext_joins)
    comp.selection = found.selection
    return list(found.outputs)


def _resolve_outputs(
    comp: Compiler, fields: Any, expand_names: set[str], want_extdata: bool, want_tags: bool
) -> list[Output]:
    entity = comp.entity
    outputs: list[Output] = []
    raw_fields = decode_param(fields)
    if isinstance(raw_fields, str):
        raw_fields = [raw_fields]
    pairs: list[tuple[str, Any]] = []
    if isinstance(raw_fields, dict):
        for key, path in raw_fields.items():
            shown = path if isinstance(path, str) else repr(path)
            pairs.append((shown if INT_KEY.match(str(key)) else str(key), path))
    elif isinstance(raw_fields, list):
        pairs = [(p if isinstance(p, str) else repr(p), p) for p in raw_fields]
    elif raw_fields is not None:
        raise bad_request("Invalid selection field")
    if len(pairs) > MAX_FIELDS:
        raise bad_request("Too many selection fields")
    if not pairs:
        pairs = [(f.name, f.name) for f in entity.fields]
    seen_keys: set[str] = set()
    for key, path in pairs:
        if key in seen_keys:
            raise bad_request(f"Invalid selection field '{short(key)}': duplicate output key")
        seen_keys.add(key)
        if path in ("extdata", "tags"):
            if (path == "extdata" and not entity.extdata) or (path == "tags" and not entity.tags):
                raise invalid("selection field", path)
            outputs.append(Output(key, comp.pseudo(path)))
            continue
        if not isinstance(path, str):
            raise invalid("selection field", path)
        outputs.append(Output(key, comp.resolve(path, "selection field")))
    for flag, name, supported in (
        (want_extdata, "extdata", entity.extdata),
        (want_tags, "tags", entity.tags),
    ):
        if flag and supported and name not in seen_keys:
            outputs.append(Output(name, comp.pseudo(name)))
            seen_keys.add(name)

    # expand: paths or aliases of expandable columns
    by_key = {o.key: o for o in outputs}
    for name in expand_names:
        target = by_key.get(name)
        if target is None:
            matches = [o for o in outputs if o.resolved.path == name]
            if not matches:
                res = comp.resolve(name, "expand field") if isinstance(name, str) else None
                if res is None or res.kind not in EXPANDABLE_KINDS:
                    raise invalid("expand field", name)
                continue  # expandable but not selected: ignored
            target = matches[0]
        if target.resolved.kind not in EXPANDABLE_KINDS or target.resolved.pseudo:
            raise invalid("expand field", name)
        target.expanded = True
    return outputs


def paging(params: dict[str, Any]) -> tuple[int, int]:
    """(limit, offset) of a list request, checked."""
    return _limit(params.get("limit")), _offset(params.get("offset"))


def _limit(value: Any) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    number = as_int(value) if not isinstance(value, bool) else None
    if number is None or number < 1:
        raise bad_request("Invalid limit")
    return min(number, LIMITS.max_limit)


def _offset(value: Any) -> int:
    if value is None or value == "":
        return 0
    number = as_int(value) if not isinstance(value, bool) else None
    if number is None or number < 0:
        raise bad_request("Invalid offset")
    return number


def _comparable(resolved: Resolved, dialect: str) -> Any:
    """PostgreSQL's ``json`` type has no equality, so DISTINCT (and its tie-breaking sort)
    compares structured columns as ``jsonb``; the driver decodes both alike."""
    if dialect == "postgresql" and resolved.kind in STRUCTURED_KINDS:
        return cast(resolved.expr, JSONB)
    return resolved.expr


def build_select(comp: Compiler, q: ListQuery) -> Select[Any]:
    """The single statement answering a list request (or its count)."""
    source = comp.from_clause()
    where = and_(*q.where) if q.where else None
    if q.distinct:
        distinct_cols = [
            _comparable(o.resolved, comp.dialect).label(f"c{i}") for i, o in enumerate(q.outputs)
        ]
        inner = select(*distinct_cols).select_from(source).distinct()
        if where is not None:
            inner = inner.where(where)
        if q.count:
            return select(func.count()).select_from(inner.subquery())
        sub = inner.subquery("d")
        order: list[Any] = []
        for resolved, desc in q.order:
            index = next(i for i, o in enumerate(q.outputs) if o.resolved.path == resolved.path)
            order += comp.sort_keys(
                Resolved(resolved.path, sub.c[f"c{index}"], resolved.kind), desc
            )
        for i, o in enumerate(q.outputs):
            order += comp.sort_keys(Resolved(o.key, sub.c[f"c{i}"], o.resolved.kind), False)
        return _paged(select(sub).order_by(*order), q)
    if q.count:
        counted = select(func.count()).select_from(source)
        return counted.where(where) if where is not None else counted
    stmt = comp.selection
    if stmt is None:
        stmt = select(*[o.resolved.expr.label(f"c{i}") for i, o in enumerate(q.outputs)])
    stmt = stmt.select_from(source)
    if where is not None:
        stmt = stmt.where(where)
    order = []
    for resolved, desc in q.order:
        order += comp.sort_keys(resolved, desc)
    if not any(r.path == "ID" for r, _ in q.order):
        order.append(comp.base.c.ID.asc())
    return _paged(stmt.order_by(*order), q)


def _paged(stmt: Select[Any], q: ListQuery) -> Select[Any]:
    """LIMIT and OFFSET as named parameters, which a reused statement sets anew (an
    export without a limit has none)."""
    if q.limit is None:
        return stmt.offset(q.offset)
    return stmt.limit(bindparam("lim", q.limit, type_=Integer)).offset(
        bindparam("off", q.offset, type_=Integer)
    )
