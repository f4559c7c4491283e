"""The benchmark harness still runs: a tiny smoke run on each store (timings not judged)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from officina.core.store import postgres_engine
from tests.conftest import PG_URL, ROOT

pytestmark = pytest.mark.e2e


def test_benchmark_harness_smoke(tmp_path: Path) -> None:
    stores = "sqlite,postgres" if PG_URL else "sqlite"
    tag = f"s{uuid.uuid4().hex[:6]}_"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFICINA_")}
    if PG_URL:
        env["OFFICINA_BENCH_POSTGRES_URL"] = PG_URL
    out = tmp_path / "RESULTS.md"
    try:
        run = subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "run.py"),
                "--smoke",
                "--stores",
                stores,
                "--work",
                str(tmp_path / "work"),
                "--out",
                str(out),
                "--tag",
                tag,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
    finally:
        if PG_URL:
            with postgres_engine(PG_URL).begin() as conn:
                names = conn.execute(
                    text("SELECT nspname FROM pg_namespace WHERE left(nspname, length(:p)) = :p"),
                    {"p": tag},
                ).scalars()
                for name in list(names):
                    conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    assert run.returncode == 0, run.stderr[-3000:]
    report = out.read_text()
    for measure in (
        "| R1 |",
        "| R1 floor |",
        "| R2 |",
        "| R4 |",
        "| R5 |",
        "| R5 floor |",
        "| Flow |",
        "## SQLite",
    ):
        assert measure in report, measure
    if PG_URL:
        assert "## PostgreSQL" in report
