"""Runtime settings: command-line flags win over ``OFFICINA_*`` environment variables,
which win over the defaults a newcomer needs for a zero-setup start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"OFFICINA_{name}", default)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("officina-data")
    # None = embedded SQLite under data_dir; a postgresql:// URL selects PostgreSQL.
    database_url: str | None = None
    workers: int = 1
    # Largest request body accepted, in bytes (binfile uploads travel base64 inside JSON).
    max_body_bytes: int = 64 * 1024 * 1024
    # Largest file stored through a binary column ({"content": base64}), in bytes.
    max_binfile_bytes: int = 32 * 1024 * 1024
    # Statement time limit for list queries, in seconds.
    statement_timeout: float = 30.0
    # Lifetime of a legacy login token, in seconds (100 days).
    login_token_ttl: int = 100 * 24 * 3600
    default_instance: str = "main"
    # Prepended to every PostgreSQL schema officina creates (control and instance schemas),
    # so several officina deployments or test runs can share one database.
    schema_prefix: str = ""
    log_level: str = "info"
    # Query complexity limits of the records face (400 beyond them).
    max_filter_depth: int = 16
    max_filter_conditions: int = 256
    max_in_items: int = 10000
    max_sort_keys: int = 16
    max_query_terms: int = 16
    # Rows one list request returns at most; a larger `limit` is clamped to it.
    max_limit: int = 10000
    # Failed sign-ins allowed per account and per client address within the window.
    login_max_failures: int = 10
    login_max_failures_per_address: int = 100
    login_window_seconds: int = 15 * 60
    # Bearer token a Prometheus scraper presents at /metrics; unset: local machine only.
    metrics_token: str | None = None
    # Directory where worker processes leave their request counts for each other, so any
    # worker's /metrics covers all of them (serve --workers N sets one up by itself).
    metrics_dir: Path | None = None
    # Threads a worker runs store work on; 0 picks by store (see store_threads).
    threads: int = 0
    # Cookie sessions (ZEYOSID): end after this long without use, and this long after
    # sign-in whatever the use (seconds; 0: no limit).
    session_idle_seconds: int = 8 * 3600
    session_max_seconds: int = 7 * 24 * 3600
    # Legacy login tokens: end after this long without use; an ``expdate`` asked for at
    # login is capped at this long after it (seconds; 0: no limit).
    login_token_idle_seconds: int = 30 * 24 * 3600
    login_token_max_seconds: int = 365 * 24 * 3600
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        base = cls()
        env: dict[str, Any] = {}
        if (v := _env("HOST")) is not None:
            env["host"] = v
        if (v := _env("PORT")) is not None:
            env["port"] = int(v)
        if (v := _env("DATA_DIR")) is not None:
            env["data_dir"] = Path(v)
        if (v := _env("DATABASE_URL")) is not None:
            env["database_url"] = v or None
        if (v := _env("WORKERS")) is not None:
            env["workers"] = int(v)
        if (v := _env("MAX_BODY_BYTES")) is not None:
            env["max_body_bytes"] = int(v)
        if (v := _env("STATEMENT_TIMEOUT")) is not None:
            env["statement_timeout"] = float(v)
        if (v := _env("MAX_BINFILE_BYTES")) is not None:
            env["max_binfile_bytes"] = int(v)
        if (v := _env("SCHEMA_PREFIX")) is not None:
            env["schema_prefix"] = v
        if (v := _env("LOG_LEVEL")) is not None:
            env["log_level"] = v
        if (v := _env("MAX_FILTER_DEPTH")) is not None:
            env["max_filter_depth"] = int(v)
        if (v := _env("MAX_FILTER_CONDITIONS")) is not None:
            env["max_filter_conditions"] = int(v)
        if (v := _env("MAX_IN_ITEMS")) is not None:
            env["max_in_items"] = int(v)
        if (v := _env("MAX_SORT_KEYS")) is not None:
            env["max_sort_keys"] = int(v)
        if (v := _env("MAX_QUERY_TERMS")) is not None:
            env["max_query_terms"] = int(v)
        if (v := _env("MAX_LIMIT")) is not None:
            env["max_limit"] = int(v)
        if (v := _env("LOGIN_MAX_FAILURES")) is not None:
            env["login_max_failures"] = int(v)
        if (v := _env("LOGIN_MAX_FAILURES_PER_ADDRESS")) is not None:
            env["login_max_failures_per_address"] = int(v)
        if (v := _env("LOGIN_WINDOW_SECONDS")) is not None:
            env["login_window_seconds"] = int(v)
        if (v := _env("METRICS_TOKEN")) is not None:
            env["metrics_token"] = v or None
        if (v := _env("METRICS_DIR")) is not None:
            env["metrics_dir"] = Path(v) if v else None
        if (v := _env("THREADS")) is not None:
            env["threads"] = int(v)
        for name in (
            "session_idle_seconds",
            "session_max_seconds",
            "login_token_idle_seconds",
            "login_token_max_seconds",
        ):
            if (v := _env(name.upper())) is not None:
                env[name] = int(v)
        env.update({k: v for k, v in overrides.items() if v is not None})
        return replace(base, **env)

    @property
    def store_threads(self) -> int:
        """SQLite work is CPU work inside this process: every extra thread only queues for
        the interpreter lock, and each hand-over of it costs more than the work (16
        concurrent lists of 100 rows: 1.6 ms of CPU each on one thread, 2.2 ms on two, 2.7
        ms on four, 4.6 ms on forty). Two keep one long query from holding up the rest.
        PostgreSQL work mostly waits for the server, so many threads overlap those waits."""
        if self.threads > 0:
            return self.threads
        return 40 if self.is_postgres else 2

    @property
    def is_postgres(self) -> bool:
        return bool(self.database_url) and str(self.database_url).startswith(
            ("postgresql", "postgres:")
        )
