"""Translated text of any face's objects: one row per object, field and language.

English is the reference language: it is never missing, names used as references and filters
match it only, and it is filled with the first value an object's field receives in whatever
language that happens to be. Later edits touch only the language they are made in, so an
integration that refers to an object by its English name is never moved by a translator.

Objects are named by ``(kind, id)``: the kind is a short word of the owning face
(``job_template``, ``status``) so one table serves every face without foreign keys.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy import text as sql
from sqlalchemy.engine import Connection

from officina.core.schema import metadata

ENGLISH = "en"
_TEMPLATE_TITLE_EN = "lang = 'en' AND kind = 'job_template' AND field = 'title'"

translations = Table(
    "translations",
    metadata,
    Column("kind", String(32), nullable=False),
    Column("owner", Integer, nullable=False),
    Column("field", String(32), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("text", Text, nullable=False),
    # Trimmed, NFC-normalised, case-folded text: what references and filters compare.
    Column("norm", Text, nullable=False),
    PrimaryKeyConstraint("kind", "owner", "field", "lang"),
    Index("ix_translations_lookup", "kind", "field", "lang", "norm"),
    # English template titles are references, so two templates may not share one.
    Index(
        "uq_translations_template_title_en",
        "kind",
        "field",
        "norm",
        unique=True,
        sqlite_where=sql(_TEMPLATE_TITLE_EN),
        postgresql_where=sql(_TEMPLATE_TITLE_EN),
    ),
)

t = translations


class EnglishRequired(ValueError):
    """An English translation was to be emptied or deleted."""


def normalize(text: str) -> str:
    """The comparison form of a name: trimmed, NFC, case-folded."""
    return unicodedata.normalize("NFC", text.strip()).casefold()


def read(
    conn: Connection, kind: str, owners: Iterable[int], field: str
) -> dict[int, dict[str, str]]:
    """Every translation of ``field`` for the given objects: ``{owner: {lang: text}}``."""
    ids = sorted(set(owners))
    found: dict[int, dict[str, str]] = {i: {} for i in ids}
    if not ids:
        return found
    rows = conn.execute(
        select(t.c.owner, t.c.lang, t.c.text).where(
            t.c.kind == kind, t.c.field == field, t.c.owner.in_(ids)
        )
    )
    for row in rows:
        found[row.owner][row.lang] = row.text
    return found


def pick(texts: Mapping[str, str], lang: str) -> str | None:
    """The text in ``lang``, else the English one (which is always there once written)."""
    return texts.get(lang) or texts.get(ENGLISH)


def _put(conn: Connection, kind: str, owner: int, field: str, lang: str, text: str) -> None:
    key = and_(t.c.kind == kind, t.c.owner == owner, t.c.field == field, t.c.lang == lang)
    changed = conn.execute(update(t).where(key).values(text=text, norm=normalize(text)))
    if changed.rowcount == 0:
        conn.execute(
            insert(t).values(
                kind=kind, owner=owner, field=field, lang=lang, text=text, norm=normalize(text)
            )
        )


def write(conn: Connection, kind: str, owner: int, field: str, lang: str, text: str) -> None:
    """Set the text in ``lang``; the first value a field gets also becomes its English one."""
    if lang != ENGLISH:
        has_english = conn.execute(
            select(t.c.lang).where(
                t.c.kind == kind, t.c.owner == owner, t.c.field == field, t.c.lang == ENGLISH
            )
        ).first()
        if has_english is None:
            _put(conn, kind, owner, field, ENGLISH, text)
    _put(conn, kind, owner, field, lang, text)


def write_many(
    conn: Connection, kind: str, owner: int, field: str, texts: Mapping[str, str | None]
) -> None:
    """Set several languages at once; an empty value removes that language (not English)."""
    for lang, text in texts.items():
        if text is None or text == "":
            if lang == ENGLISH:
                raise EnglishRequired(field)
            conn.execute(
                delete(t).where(
                    t.c.kind == kind, t.c.owner == owner, t.c.field == field, t.c.lang == lang
                )
            )
    present = {lang: text for lang, text in texts.items() if text}
    if ENGLISH in present:
        _put(conn, kind, owner, field, ENGLISH, present.pop(ENGLISH))
    for lang, text in present.items():
        write(conn, kind, owner, field, lang, text)


def forget(conn: Connection, kind: str, owners: Iterable[int]) -> None:
    """Drop every translation of objects that are gone."""
    ids = list(owners)
    if ids:
        conn.execute(delete(t).where(t.c.kind == kind, t.c.owner.in_(ids)))


def find_english(conn: Connection, kind: str, field: str, name: str) -> int | None:
    """The object whose English ``field`` equals ``name`` after normalisation."""
    row = conn.execute(
        select(t.c.owner).where(
            t.c.kind == kind, t.c.field == field, t.c.lang == ENGLISH, t.c.norm == normalize(name)
        )
    ).first()
    return None if row is None else int(row.owner)


def find_translation(conn: Connection, kind: str, field: str, name: str) -> tuple[int, str] | None:
    """An object whose non-English ``field`` equals ``name``: ``(owner, lang)``.

    Used only to explain a failed English reference ("that is the German title of …").
    """
    row = conn.execute(
        select(t.c.owner, t.c.lang)
        .where(
            t.c.kind == kind, t.c.field == field, t.c.lang != ENGLISH, t.c.norm == normalize(name)
        )
        .order_by(t.c.owner, t.c.lang)
    ).first()
    return None if row is None else (int(row.owner), str(row.lang))


def english_column(kind: str, field: str, alias: str) -> Any:
    """A joinable alias of the English rows of ``kind.field`` (for one-statement lists)."""
    a = t.alias(alias)
    return a, and_(a.c.kind == kind, a.c.field == field, a.c.lang == ENGLISH)
