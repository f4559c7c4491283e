"""Statements of list requests, kept by the shape of the request so that the next request of
that shape runs the same statement with its own operands.

Building a list's statement (resolving paths, composing the SQL expression, SQLAlchemy's
cache key for it) cost as much as running a page of a hundred rows. Most traffic repeats a
few shapes with other values: the same filter on another ID range, another city, the next
page. So a request is split into its *shape* (everything but the comparison operands and the
paging numbers, taken as sent) and its *operands* (taken out in order). The first request of
a shape is compiled as usual, and its statement is kept when the operands the compiler bound
are exactly the operands taken out, in the same order; otherwise the shape is compiled every
time. A later request of the shape converts its operands with the very conversions the
compiler used, so a bad value fails with the same message.

What is kept holds no data and nothing a caller could not see: the shape includes what the
caller may see (visibility is part of every statement), and each worker keeps its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass
from typing import Any

from sqlalchemy import Select

from officina.core.auth import Principal
from officina.core.errors import HttpError
from officina.zeyos.access import visibility_key
from officina.zeyos.limits import LIMITS
from officina.zeyos.query import (
    INT_KEY,
    ListQuery,
    build_select,
    compile_list,
    decode_param,
    no_filter,
    paging,
)
from officina.zeyos.registry.model import Entity

# Comparisons whose operand is a plain value bound as a parameter. Pattern operators are
# not among them: a pattern is checked when it is compiled, so it stays part of the shape.
_BOUND_OPS = {"=", "!=", "<>", "<", "<=", ">", ">="}
# Longer IN lists are not taken out (their shape key would be as long as the list).
_MAX_TAKEN_ITEMS = 256
_SHAPES_MAX = 512
# Wider or longer statements are compiled every time, which bounds what the kept shapes of
# one worker can hold (a caller chooses the shapes).
_MAX_KEPT_OUTPUTS = 64
_MAX_KEPT_OPERANDS = 64
# Parameters that shape a statement without holding operands.
_VERBATIM = ("count", "distinct", "extdata", "tags", "expand", "fields", "query", "sort")


@dataclass
class ListStatement:
    """A list's statement and its parsed request, shared by the requests of one shape."""

    stmt: Select[Any]
    query: ListQuery
    # How rows become API objects, filled in by the caller once per kept statement.
    plan: Any = None
    # The CPU time its last run took (seconds): a shape that overran the event loop's budget
    # last time starts on a worker thread (see records.run_list).
    seconds: float = 0.0


@dataclass
class _Kept:
    statement: ListStatement
    conversions: tuple[Callable[[Any], Any], ...]


_KEPT: dict[tuple[Any, ...], _Kept] = {}


def prepare(
    entity: Entity, params: dict[str, Any], principal: Principal, dialect: str
) -> tuple[ListStatement, dict[str, Any]]:
    """The statement answering ``params`` and the parameters to run it with: a kept
    statement with this request's operands, or a new one holding its own (no parameters)."""
    shape = _shape(entity, params, principal, dialect)
    if shape is not None:
        key, operands = shape
        kept = _KEPT.get(key)
        if kept is not None:
            values = {
                f"v{i}": convert(raw)
                for i, (raw, convert) in enumerate(zip(operands, kept.conversions, strict=True))
            }
            values["lim"], values["off"] = paging(params)
            return kept.statement, values
    comp, q = compile_list(entity, params, principal, dialect)
    made = ListStatement(build_select(comp, q), q)
    small = len(q.outputs) <= _MAX_KEPT_OUTPUTS and len(comp.slots) <= _MAX_KEPT_OPERANDS
    if shape is not None and small and _same([raw for raw, _ in comp.slots], operands):
        if len(_KEPT) >= _SHAPES_MAX:
            _KEPT.clear()
        _KEPT[key] = _Kept(made, tuple(convert for _, convert in comp.slots))
    return made, {}


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same JSON types all the way down (1, 1.0 and True differ here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _shape(
    entity: Entity, params: dict[str, Any], principal: Principal, dialect: str
) -> tuple[tuple[Any, ...], list[Any]] | None:
    """(shape key, operands in binding order), or None when the request is not worth keeping
    or would fail anyway (compiling it gives the error)."""
    operands: list[Any] = []
    try:
        filters = tuple(_node(decode_param(params.get(k)), operands) for k in ("filter", "filters"))
        verbatim = tuple(repr(params.get(k)) for k in _VERBATIM)
    except (_Unkept, HttpError):
        return None
    key = (entity.name, dialect, visibility_key(principal), astuple(LIMITS), filters, verbatim)
    return key, operands


class _Unkept(Exception):
    """The request has a part that is not taken apart (it is compiled every time)."""


def _node(node: Any, operands: list[Any]) -> Any:
    """The shape of a filter node, in the order the compiler visits it."""
    if no_filter(node):
        return None
    if isinstance(node, list):
        return ("group", tuple(_node_or_word(item, operands) for item in node))
    if isinstance(node, dict):
        return (
            "all",
            tuple(
                (
                    key,
                    _node(value, operands) if INT_KEY.match(str(key)) else _member(value, operands),
                )
                for key, value in node.items()
            ),
        )
    return ("as sent", repr(node))


def _node_or_word(item: Any, operands: list[Any]) -> Any:
    if isinstance(item, list | dict) and item:
        return _node(item, operands)
    return ("as sent", repr(item))


def _member(condition: Any, operands: list[Any]) -> Any:
    if isinstance(condition, dict):
        return ("ops", tuple((op, _operand(str(op), v, operands)) for op, v in condition.items()))
    if isinstance(condition, list):
        return _items(condition, operands)
    return _scalar(condition, operands)


def _operand(op: str, operand: Any, operands: list[Any]) -> Any:
    if op.upper() in ("IN", "!IN") and isinstance(operand, list):
        return _items(operand, operands)
    if op in _BOUND_OPS and operand is not None:
        return _scalar(operand, operands)
    return ("as sent", repr(operand))


def _scalar(value: Any, operands: list[Any]) -> Any:
    if value is None or not isinstance(value, int | float | str):
        return ("as sent", repr(value))
    operands.append(value)
    return ("value", type(value).__name__)


def _items(items: list[Any], operands: list[Any]) -> Any:
    if len(items) > _MAX_TAKEN_ITEMS or not all(
        item is None or isinstance(item, int | float | str) for item in items
    ):
        raise _Unkept
    present = [item for item in items if item is not None]
    if present:
        operands.append(present)
    return ("values", tuple(type(item).__name__ for item in items))
