"""SQL helpers that must behave the same on SQLite and PostgreSQL.

PostgreSQL has POSIX regular expressions, Unicode-aware ``lower()`` and byte-order ``"C"``
collation built in; SQLite gets the same behaviour from functions registered on every
connection. Query code calls the constructs here and never thinks about the dialect.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import regex
from sqlalchemy import func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Boolean, Text

# A pattern that takes longer than this to evaluate on one value is refused as too costly
# (answering "no match" instead would be a wrong answer given silently); PostgreSQL's engine
# does not backtrack this way and is held by its statement timeout alone.
REGEX_TIMEOUT_SECONDS = 0.25


class RegexTooCostly(Exception):
    """A pattern overran REGEX_TIMEOUT_SECONDS on a single value."""


class StatementExpired(Exception):
    """The statement evaluating a pattern has used up the time it was lent."""


class _Deadline(threading.local):
    """The end of the time lent to the statement running on this thread. SQLite calls
    registered functions on the thread that steps the statement, and its progress handler
    is not consulted while one function call runs, so the pattern function watches the
    clock itself."""

    at: float | None = None
    # Why the last statement on this thread was cut by a pattern function, if it was.
    cut: type[Exception] | None = None


_deadline = _Deadline()


@contextmanager
def statement_deadline(seconds: float) -> Iterator[None]:
    """Lend the statements of this block ``seconds`` of pattern evaluation on SQLite."""
    _deadline.at = time.monotonic() + seconds
    _deadline.cut = None
    try:
        yield
    finally:
        _deadline.at = None


def cut_by() -> type[Exception] | None:
    """Why a pattern function stopped the statement that just failed on this thread."""
    return _deadline.cut


@functools.lru_cache(maxsize=512)
def _compile(pattern: str, insensitive: bool) -> Any:
    flags = regex.POSIX_BRACKETS if hasattr(regex, "POSIX_BRACKETS") else 0
    if insensitive:
        flags |= regex.IGNORECASE
    return regex.compile(pattern, flags | regex.VERSION0)


def _regexp(pattern: str | None, value: Any, insensitive: bool) -> int | None:
    if pattern is None or value is None:
        return None
    timeout = REGEX_TIMEOUT_SECONDS
    deadline = _deadline.at
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            _deadline.cut = StatementExpired
            raise StatementExpired
        timeout = min(timeout, left)
    try:
        # concurrent=True lets the matcher release the interpreter lock: a costly pattern on
        # a worker thread must not stop the event loop's thread.
        found = _compile(pattern, insensitive).search(str(value), timeout=timeout, concurrent=True)
    except TimeoutError:
        expired = deadline is not None and time.monotonic() >= deadline
        _deadline.cut = StatementExpired if expired else RegexTooCostly
        raise _deadline.cut from None
    return 1 if found else 0


def regexp_cs(pattern: str | None, value: Any) -> int | None:
    return _regexp(pattern, value, False)


def regexp_ci(pattern: str | None, value: Any) -> int | None:
    return _regexp(pattern, value, True)


def ulower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def install_sqlite_functions(conn: sqlite3.Connection) -> None:
    """Register the functions every officina SQLite connection needs."""
    conn.create_function("officina_regexp", 2, regexp_cs, deterministic=True)
    conn.create_function("officina_regexp_i", 2, regexp_ci, deterministic=True)
    conn.create_function("ulower", 1, ulower, deterministic=True)


def check_regex(pattern: str) -> bool:
    """True when ``pattern`` compiles; lets callers answer 400 before any SQL runs."""
    try:
        _compile(pattern, False)
    except regex.error:
        return False
    return True


class regex_match(GenericFunction[bool]):
    """``regex_match(value, pattern)``: case-sensitive POSIX regex search on both stores."""

    type = Boolean()
    inherit_cache = True
    name = "regex_match"


class regex_imatch(GenericFunction[bool]):
    """``regex_imatch(value, pattern)``: case-insensitive POSIX regex search.

    A separate construct rather than a flag argument: a flag would be a bound parameter,
    and compiled statements are cached without looking at parameter values.
    """

    type = Boolean()
    inherit_cache = True
    name = "regex_imatch"


@compiles(regex_match, "sqlite")
def _regex_match_sqlite(element: regex_match, compiler: Any, **kw: Any) -> str:
    value, pattern = list(element.clauses)
    return f"officina_regexp({compiler.process(pattern, **kw)}, {compiler.process(value, **kw)})"


@compiles(regex_imatch, "sqlite")
def _regex_imatch_sqlite(element: regex_imatch, compiler: Any, **kw: Any) -> str:
    value, pattern = list(element.clauses)
    return f"officina_regexp_i({compiler.process(pattern, **kw)}, {compiler.process(value, **kw)})"


@compiles(regex_match, "postgresql")
def _regex_match_pg(element: regex_match, compiler: Any, **kw: Any) -> str:
    value, pattern = list(element.clauses)
    return f"({compiler.process(value, **kw)} ~ {compiler.process(pattern, **kw)})"


@compiles(regex_imatch, "postgresql")
def _regex_imatch_pg(element: regex_imatch, compiler: Any, **kw: Any) -> str:
    value, pattern = list(element.clauses)
    return f"({compiler.process(value, **kw)} ~* {compiler.process(pattern, **kw)})"


class lowered(GenericFunction[str]):
    """Unicode-aware lower case: PostgreSQL ``lower()``, SQLite's registered ``ulower()``."""

    type = Text()
    inherit_cache = True
    name = "lowered"


@compiles(lowered, "sqlite")
def _lowered_sqlite(element: lowered, compiler: Any, **kw: Any) -> str:
    return f"ulower({compiler.process(element.clauses, **kw)})"


@compiles(lowered, "postgresql")
def _lowered_pg(element: lowered, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


def byte_order(expr: ColumnElement[Any], dialect_name: str) -> ColumnElement[Any]:
    """Compare text by code point on both stores (PostgreSQL's default collation is locale)."""
    if dialect_name == "postgresql":
        return expr.collate("C")
    return expr


def text_sort_keys(expr: ColumnElement[Any], dialect_name: str) -> list[ColumnElement[Any]]:
    """Case-insensitive order with a case-sensitive tie-break, identical on both stores."""
    return [byte_order(lowered(expr), dialect_name), byte_order(expr, dialect_name)]


__all__ = [
    "RegexTooCostly",
    "StatementExpired",
    "check_regex",
    "cut_by",
    "func",
    "install_sqlite_functions",
    "lowered",
    "regex_imatch",
    "regex_match",
    "statement_deadline",
    "text_sort_keys",
]
