"""Request metrics in the Prometheus text format.

Routes are recorded by template, never by raw path, and their number is capped, so the
number of series stays bounded whatever clients send.

Worker processes started by ``officina serve --workers N`` share one port, so a scrape
reaches whichever worker the kernel picks. So that every scrape still sees the whole server,
each worker writes a snapshot of its counts to a directory the workers share (about once a
second, and right before it answers a scrape) and the answering worker adds up all
snapshots. Snapshots of workers that have exited stay, so counters never go backwards when a
worker is replaced. A single process keeps its counts in memory only.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

# Route templates tracked at most; anything beyond is counted as "{other}".
MAX_ROUTES = 1000
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds between a worker's snapshots.
FLUSH_EVERY = 1.0

# One series group: statuses -> count, 5xx count, bucket counts, seconds, count.
Series = dict[str, Any]


def _new_series() -> Series:
    return {"statuses": {}, "errors": 0, "buckets": [0] * len(BUCKETS), "sum": 0.0, "count": 0}


class Metrics:
    def __init__(self, shared_dir: Path | None = None) -> None:
        self.lock = threading.Lock()
        # "METHOD ROUTE" -> series
        self.series: dict[str, Series] = {}
        self.shared_dir = shared_dir
        self._flusher: threading.Thread | None = None

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self.lock:
            key = f"{method} {route}"
            if key not in self.series and len(self.series) >= MAX_ROUTES:
                key = f"{method} {{other}}"
            s = self.series.get(key)
            if s is None:
                s = self.series[key] = _new_series()
            statuses = s["statuses"]
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status >= 500:
                s["errors"] += 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    s["buckets"][i] += 1
            s["sum"] += seconds
            s["count"] += 1
        if self.shared_dir is not None and self._flusher is None:
            self._start_flushing()

    # -- sharing between worker processes ------------------------------------------------

    def _start_flushing(self) -> None:
        with self.lock:
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(target=self._flush_forever, daemon=True)
        self._flusher.start()

    def _flush_forever(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY)
            self.flush()

    def flush(self) -> None:
        """Write this process's snapshot where the other workers can read it."""
        if self.shared_dir is None:
            return
        with self.lock:
            data = json.dumps(self.series)
        target = self.shared_dir / f"{os.getpid()}.json"
        partial = target.with_suffix(".part")
        partial.write_text(data)
        os.replace(partial, target)  # readers never see half a snapshot

    def _all_snapshots(self) -> list[dict[str, Series]]:
        if self.shared_dir is None:
            with self.lock:
                return [json.loads(json.dumps(self.series))]
        self.flush()
        snapshots = []
        for path in sorted(self.shared_dir.glob("*.json")):
            try:
                snapshots.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # a worker replaced it mid-read: the next scrape sees it
        return snapshots

    # -- the text format -------------------------------------------------------------------

    def render(self) -> str:
        total: dict[str, Series] = {}
        for snapshot in self._all_snapshots():
            for key, s in snapshot.items():
                t = total.setdefault(key, _new_series())
                for status, n in s["statuses"].items():
                    t["statuses"][status] = t["statuses"].get(status, 0) + n
                t["errors"] += s["errors"]
                t["buckets"] = [a + b for a, b in zip(t["buckets"], s["buckets"], strict=True)]
                t["sum"] += s["sum"]
                t["count"] += s["count"]
        return _text(total)


def _text(total: dict[str, Series]) -> str:
    ordered = sorted((key.split(" ", 1), s) for key, s in total.items())
    lines = [
        "# HELP officina_requests_total HTTP requests served, by route template and status.",
        "# TYPE officina_requests_total counter",
    ]
    for (method, route), s in ordered:
        for status, n in sorted(s["statuses"].items()):
            lines.append(
                f'officina_requests_total{{method="{method}",route="{_esc(route)}",'
                f'status="{status}"}} {n}'
            )
    lines += [
        "# HELP officina_request_errors_total Requests answered with a 5xx status.",
        "# TYPE officina_request_errors_total counter",
    ]
    for (method, route), s in ordered:
        if s["errors"]:
            lines.append(
                f'officina_request_errors_total{{method="{method}",route="{_esc(route)}"}} '
                f"{s['errors']}"
            )
    lines += [
        "# HELP officina_request_duration_seconds Time to answer a request.",
        "# TYPE officina_request_duration_seconds histogram",
    ]
    for (method, route), s in ordered:
        label = f'method="{method}",route="{_esc(route)}"'
        for bound, n in zip(BUCKETS, s["buckets"], strict=True):
            lines.append(f'officina_request_duration_seconds_bucket{{{label},le="{bound}"}} {n}')
        lines.append(f'officina_request_duration_seconds_bucket{{{label},le="+Inf"}} {s["count"]}')
        lines.append(f"officina_request_duration_seconds_sum{{{label}}} {s['sum']:.6f}")
        lines.append(f"officina_request_duration_seconds_count{{{label}}} {s['count']}")
    return "\n".join(lines) + "\n"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
