"""Where a JSON body stops being JSON, said the same way by every face.

A client that sent a few hundred lines of JSON learns little from "not valid JSON"; the line
and column of the first bad character let a person find it in an editor. Each face keeps its
own error body and wording and only appends what this module builds.
"""

from __future__ import annotations


def position(doc: str | bytes, pos: int) -> tuple[int, int]:
    """Line and column (both counted from 1, columns in characters) of offset ``pos``."""
    text = doc.decode("utf-8", "replace") if isinstance(doc, bytes) else doc
    pos = max(0, min(pos, len(text)))
    line_start = text.rfind("\n", 0, pos) + 1
    return text.count("\n", 0, pos) + 1, pos - line_start + 1


def located(message: str, doc: str | bytes | None, pos: int | None) -> str:
    """``message`` followed by " at line L, column C" when the place is known (a decoder
    that gave up before it had any text, as on bytes that are not UTF-8, knows no place)."""
    if not doc or pos is None:
        return message
    line, column = position(doc, pos)
    return f"{message} at line {line}, column {column}"


def from_decode_error(message: str, err: ValueError) -> str:
    """``located`` for a decoder's exception (the standard library's or orjson's: both carry
    the decoded text and the offset)."""
    return located(message, getattr(err, "doc", None), getattr(err, "pos", None))


def nul_at(doc: object, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where the first string holding a NUL character sits in a decoded body (keys too), or
    None. No store keeps NUL alike: PostgreSQL refuses it in text and SQLite cuts comparisons
    at it, so every face refuses it up front and both stores hold the same values."""
    if isinstance(doc, str):
        return path if "\x00" in doc else None
    if isinstance(doc, dict):
        for key, value in doc.items():
            if isinstance(key, str) and "\x00" in key:
                return (*path, key)
            found = nul_at(value, (*path, key))
            if found is not None:
                return found
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found = nul_at(value, (*path, index))
            if found is not None:
                return found
    return None


def dotted(path: tuple[str | int, ...]) -> str:
    """``("locations", 2, "number")`` as ``locations[2].number``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out
