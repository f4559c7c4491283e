"""Paging of every list of the jobs face: a bare JSON array, paging data in headers.

ASP.NET list actions return plain arrays, so the total travels in ``X-Total-Count`` and the
neighbouring pages in an RFC 8288 ``Link`` header. ``page``/``pageSize`` and the common
``skip``/``take`` aliases are both understood.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from officina.goana.problems import Errors
from officina.goana.routing import Call, Param

DEFAULT_SIZE = 100
MAX_SIZE = 1000
# The paging parameters every list takes, as the OpenAPI document lists them.
PAGING = (
    Param("page", "page number, from 1", "integer"),
    Param("pageSize", f"items per page (default {DEFAULT_SIZE}, at most {MAX_SIZE})", "integer"),
    Param("skip", "items to skip (alternative to page)", "integer"),
    Param("take", "items to return (alternative to pageSize)", "integer"),
)


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


def _number(call: Call, name: str, errors: Errors, low: int) -> int | None:
    raw = call.arg(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,9}", raw.strip()) or int(raw) < low:
        errors.add(name, f"must be a whole number of at least {low}")
        return None
    return int(raw)


def page_of(call: Call) -> Page:
    errors = Errors()
    page = _number(call, "page", errors, 1)
    size = _number(call, "pageSize", errors, 1)
    skip = _number(call, "skip", errors, 0)
    take = _number(call, "take", errors, 1)
    limit = size if size is not None else take if take is not None else DEFAULT_SIZE
    if limit > MAX_SIZE:
        errors.add("pageSize" if size is not None else "take", f"must be at most {MAX_SIZE}")
    errors.check()
    offset = skip if skip is not None else ((page or 1) - 1) * limit
    return Page(offset, limit)


def total_of(rows: Sequence[Any], page: Page, count: Callable[[], int]) -> int:
    """The list's total, from the window count (``total``) its page query carries on each row.

    A page past the end has no row to carry it, so only then is the total counted apart.
    """
    if rows:
        return int(rows[0].total)
    return count() if page.offset else 0


def page_headers(call: Call, page: Page, total: int) -> dict[str, str]:
    headers = {"X-Total-Count": str(total)}
    keep = [
        (k, v)
        for k, v in call.query.multi_items()
        if k.lower() not in ("page", "pagesize", "skip", "take")
    ]
    path = call.request.url.path
    links = []

    def link(offset: int, rel: str) -> None:
        query = urlencode([*keep, ("skip", str(offset)), ("take", str(page.limit))])
        links.append(f'<{path}?{query}>; rel="{rel}"')

    if page.offset + page.limit < total:
        link(page.offset + page.limit, "next")
    if page.offset > 0:
        link(max(page.offset - page.limit, 0), "prev")
    if links:
        headers["Link"] = ", ".join(links)
    return headers
