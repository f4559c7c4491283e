"""The one entity-tag format of every face, and the one reader of ``If-Match`` and
``If-None-Match``.

Every face answers with a quoted strong tag of 32 hex digits, so a client (or a proxy) that
talks to several faces handles one shape. A tag is derived either from what identifies a
stored version (instance, kind, key, revision) or, for objects without a version of their
own, from the exact bytes of their representation (which is what a strong tag promises).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

ANY = "*"


def version_tag(*parts: object) -> str:
    """The tag of one stored version, e.g. ``version_tag(instance, entity, id, rev)``: the
    same for every representation of that version (GET, HEAD, the answer to a write)."""
    raw = "/".join(str(p) for p in parts).encode()
    return '"' + hashlib.md5(raw).hexdigest() + '"'  # an identifier, not a security measure


def content_tag(raw: bytes) -> str:
    """The tag of one representation's exact bytes."""
    return '"' + hashlib.md5(raw).hexdigest() + '"'  # an identifier, not a security measure


@dataclass(frozen=True)
class Tags:
    """The parsed value of a conditional header: ``*`` or a list of tags as sent."""

    any: bool
    tags: tuple[str, ...]

    def strong_match(self, current: str) -> bool:
        """RFC 9110's strong comparison (``If-Match`` on the records face): a weak tag on
        either side never matches."""
        if self.any:
            return True
        return not current.startswith("W/") and current in self.tags

    def weak_match(self, current: str) -> bool:
        """Weak comparison (``If-None-Match``, and ``If-Match`` where a face always read it
        this way): ``W/`` prefixes are ignored on both sides."""
        if self.any:
            return True
        bare = current.removeprefix("W/")
        return any(t.removeprefix("W/") == bare for t in self.tags)


def parse(header: str | None) -> Tags | None:
    """``None`` when the header is absent; otherwise its tags in order (empty items of a
    list such as ``"a", , "b"`` are skipped)."""
    if header is None:
        return None
    tags = tuple(t.strip() for t in header.split(",") if t.strip())
    return Tags(ANY in tags, tags)
