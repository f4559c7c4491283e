"""Fixed statements run straight on the driver's cursor.

A request's lookups (the caller's credentials, one row by ID, a kept list) and the insert of
a new row are statements whose shape never changes: only their parameters do. Through
SQLAlchemy's execution pipeline each such run paid for events, a compiled-cache lookup,
parameter processing and a result object, several times the cost of the database's own
work. Here a statement is compiled once per dialect and schema, with the type conversions
SQLAlchemy would apply decided once, and each run is one ``cursor.execute`` on the
connection the caller already holds, inside whatever transaction that connection is in.

Only statements that need nothing of SQLAlchemy's execution at run time are taken:
parameters expanded at execution (``IN`` lists), computed by callables or filled in from
Python-side column defaults fall back to ``Connection.execute``, and so the answer is the
same either way.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from threading import Lock
from typing import Any, cast

from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


@dataclass
class _Compiled:
    sql: str
    # Parameter names in the order the driver takes them (positional styles), or None
    # when the driver takes a mapping.
    order: tuple[str, ...] | None
    # Values the statement carries itself (literals turned into parameters), converted.
    fixed: dict[str, Any]
    # Conversions of caller-given parameters the column types ask for.
    binds: dict[str, Processor]
    row: Any
    # Types of the result columns, in order.
    types: tuple[Any, ...]
    # An INSERT, UPDATE or DELETE: never run twice, so never handed back to SQLAlchemy
    # after it ran.
    changes: bool = False
    # Conversions of result columns, decided at the first run (some depend on the type
    # the driver reports); None until then, an empty tuple when there are none.
    results: tuple[tuple[int, Processor], ...] | None = None


class Direct:
    """One statement, run directly on the driver once compiled for a connection's dialect
    and schema. Instances are meant to be module-level constants or kept in bounded maps:
    the compiled forms live as long as the instance."""

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self._compiled: dict[tuple[str, str, Any], _Compiled | None] = {}
        self._lock = Lock()

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        """Every row, each a tuple whose fields also read as attributes by label."""
        translate = conn.get_execution_options().get("schema_translate_map")
        dialect = conn.dialect
        key = (dialect.name, dialect.driver, tuple(translate.items()) if translate else None)
        if key in self._compiled:
            compiled = self._compiled[key]
        else:
            compiled = self._compile(conn, translate, key)
        if compiled is None:
            return conn.execute(self.stmt, dict(params)).all()
        values = dict(compiled.fixed)
        binds = compiled.binds
        for name, value in params.items():
            convert = binds.get(name)
            values[name] = convert(value) if convert is not None and value is not None else value
        args: Any = values if compiled.order is None else [values[n] for n in compiled.order]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, args)
            fetched = cursor.fetchall()
            if compiled.results is None:
                compiled.results = _result_processors(conn, compiled, cursor.description)
                if compiled.results is None:
                    if compiled.changes:
                        raise RuntimeError("the driver's columns do not match the statement's")
                    # A select: running it again through SQLAlchemy changes nothing.
                    with self._lock:
                        self._compiled[key] = None
                    return conn.execute(self.stmt, dict(params)).all()
        finally:
            cursor.close()
        make = compiled.row._make
        if not compiled.results:
            return [make(r) for r in fetched]
        out = []
        for r in fetched:
            converted = list(r)
            for index, convert_out in compiled.results:
                if converted[index] is not None:
                    converted[index] = convert_out(converted[index])
            out.append(make(converted))
        return out

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        found = self.rows(conn, params)
        return found[0] if found else None

    def _compile(
        self, conn: Connection, translate: dict[Any, Any] | None, key: tuple[str, str, Any]
    ) -> _Compiled | None:
        dialect = conn.dialect
        if translate:
            compiled = self.stmt.compile(
                dialect=dialect, schema_translate_map=translate, render_schema_translate=True
            )
        else:
            compiled = self.stmt.compile(dialect=dialect)
        found = _prepare(compiled) if isinstance(compiled, SQLCompiler) else None
        with self._lock:
            self._compiled[key] = found
        return found


def _prepare(compiled: SQLCompiler) -> _Compiled | None:
    """What a direct run needs, or None when the statement needs SQLAlchemy at run time."""
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    if compiled.escaped_bind_names:
        return None
    if compiled.insert_prefetch or compiled.update_prefetch:
        return None  # values SQLAlchemy computes while executing (Python-side defaults)
    fixed: dict[str, Any] = {}
    binds: dict[str, Processor] = {}
    processors = compiled._bind_processors
    for name, bind in compiled.binds.items():
        if bind.callable is not None or bind.expanding:
            return None
        found = processors.get(name)
        if found is not None and not callable(found):
            return None  # a tuple type's processors
        convert = cast(Processor | None, found)
        if not bind.required:
            value = bind.value
            fixed[name] = convert(value) if convert is not None and value is not None else value
        elif convert is not None:
            binds[name] = convert
    labels = [c[0] for c in compiled._result_columns]
    if len(set(labels)) != len(labels):
        return None
    order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    if compiled.positional and order is None and compiled.binds:
        return None
    row = namedtuple("Row", labels, rename=True)  # type: ignore[misc]
    types = tuple(c[3] for c in compiled._result_columns)
    changes = bool(compiled.isinsert or compiled.isupdate or compiled.isdelete)
    return _Compiled(compiled.string, order, fixed, binds, row, types, changes)


def _result_processors(
    conn: Connection, compiled: _Compiled, description: Any
) -> tuple[tuple[int, Processor], ...] | None:
    """The conversions SQLAlchemy applies to these result columns on this dialect, or None
    when the driver's columns do not line up with the statement's."""
    if description is None or len(description) != len(compiled.types):
        return None
    found = []
    for index, (type_, column) in enumerate(zip(compiled.types, description, strict=True)):
        convert = type_._cached_result_processor(conn.dialect, column[1])
        if convert is not None:
            found.append((index, convert))
    return tuple(found)
