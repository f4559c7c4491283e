"""Request metrics in the Prometheus text format, kept per worker process.

Each worker counts what it served; with several workers a scrape through the load balancer
sees one worker at a time, so scrape each worker's port or sum in the query (documented in
the scaling guide). Routes are recorded by template, never by raw path, and their number is
capped, so the number of series stays bounded whatever clients send.
"""

from __future__ import annotations

import threading
from collections import defaultdict

# Route templates tracked at most; anything beyond is counted as "{other}".
MAX_ROUTES = 1000
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.errors: dict[tuple[str, str], int] = defaultdict(int)
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = defaultdict(float)
        self.counts: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self.lock:
            if (method, route) not in self.buckets and len(self.buckets) >= MAX_ROUTES:
                route = "{other}"
            key = (method, route)
            self.requests[(method, route, str(status))] += 1
            if status >= 500:
                self.errors[key] += 1
            counts = self.buckets.setdefault(key, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self.sums[key] += seconds
            self.counts[key] += 1

    def render(self) -> str:
        lines = [
            "# HELP officina_requests_total HTTP requests served, by route template and status.",
            "# TYPE officina_requests_total counter",
        ]
        with self.lock:
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(
                    f'officina_requests_total{{method="{method}",route="{_esc(route)}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP officina_request_errors_total Requests answered with a 5xx status.",
                "# TYPE officina_request_errors_total counter",
            ]
            for (method, route), n in sorted(self.errors.items()):
                lines.append(
                    f'officina_request_errors_total{{method="{method}",route="{_esc(route)}"}} {n}'
                )
            lines += [
                "# HELP officina_request_duration_seconds Time to answer a request.",
                "# TYPE officina_request_duration_seconds histogram",
            ]
            for (method, route), counts in sorted(self.buckets.items()):
                label = f'method="{method}",route="{_esc(route)}"'
                for bound, n in zip(BUCKETS, counts, strict=True):
                    lines.append(
                        f'officina_request_duration_seconds_bucket{{{label},le="{bound}"}} {n}'
                    )
                total = self.counts[(method, route)]
                lines.append(
                    f'officina_request_duration_seconds_bucket{{{label},le="+Inf"}} {total}'
                )
                spent = self.sums[(method, route)]
                lines.append(f"officina_request_duration_seconds_sum{{{label}}} {spent:.6f}")
                lines.append(f"officina_request_duration_seconds_count{{{label}}} {total}")
        return "\n".join(lines) + "\n"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
