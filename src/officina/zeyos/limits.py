"""Per-process limits of the records face, set once from the settings when the app is built.

Every worker builds its app from the same settings, so these hold the same values in every
process; nothing here changes while requests run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    # Largest file stored through a binary column, in bytes.
    binfile_bytes: int = 32 * 1024 * 1024
    # Longest a list query may run before it is cancelled (503 + Retry-After), in seconds.
    statement_seconds: float = 30.0
    # Query complexity: filter nesting, filter conditions, values of one IN list, sort keys,
    # words of a full-text query; and the row count a larger `limit` is clamped to.
    filter_depth: int = 16
    filter_conditions: int = 256
    in_items: int = 10000
    sort_keys: int = 16
    query_terms: int = 16
    max_limit: int = 10000


LIMITS = Limits()
