"""One source of "now", so tests can reason about timestamps the server writes."""

from __future__ import annotations

import time


def now() -> int:
    """Unix seconds: the unit of every timestamp the records face stores."""
    return int(time.time())
