"""Runs every benchmark of officina against its anchor and writes benchmarks/RESULTS.md.

Each ratio compares two measurements taken in the same run on the same machine, so the
machine's speed cancels out. Load comes from ``wrk`` in a separate process over loopback
(installed with apt-get when missing); ``--smoke`` replaces it with a small in-process loop
and tiny data, which is what the test suite runs to keep this script working.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG_URL = os.environ.get("OFFICINA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


# -- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def officina(*args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "officina", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"officina {' '.join(args)} failed: {out.stderr.strip()[-500:]}")
    return out.stdout


def wait_for(url: str, proc: subprocess.Popen[Any], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early: {url}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server did not start: {url}")


@contextmanager
def process(
    argv: list[str], probe: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[Any]]:
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
    try:
        wait_for(probe, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- load -------------------------------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50_ms: float
    errors: int


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True, check=False)
    return shutil.which("wrk")


def ensure_tool(package: str, command: str) -> str | None:
    """A tool from PyPI (Datasette, py-spy) in a virtual environment of the benchmarks' own,
    so its dependencies stay apart from officina's."""
    found = HERE / ".venv-tools" / "bin" / command
    if not found.exists():
        if not found.parent.exists():
            subprocess.run([sys.executable, "-m", "venv", str(found.parents[1])], check=False)
        pip = found.parent / "pip"
        subprocess.run([str(pip), "install", "-q", package], capture_output=True, check=False)
    return str(found) if found.exists() else None


def wrk(url: str, script: str, env: dict[str, str], connections: int, seconds: int) -> Load:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(HERE / script),
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: .*?(\d+) timeout", out)
    return Load(
        rps,
        float(p50.group(1)) * scale[p50.group(2)] if p50 else 0.0,
        (int(errors.group(1)) if errors else 0)
        + (int(socket_errors.group(1)) if socket_errors else 0),
    )


def python_load(send: Callable[[httpx.Client], int], connections: int, seconds: float) -> Load:
    """A stand-in for wrk (smoke runs): threads with one keep-alive connection each."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < stop:
                started = time.perf_counter()
                status = send(client)
                spent = time.perf_counter() - started
                with lock:
                    latencies.append(spent)
                    errors[0] += status >= 300

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Load(len(latencies) / seconds, statistics.median(latencies) * 1000, errors[0])


def alternate(rounds: int, *sides: Callable[[], Load]) -> tuple[Load, ...]:
    """Measure officina and its anchors in turns, ``rounds`` times each, and keep each side's
    median: on a shared machine the load of other work drifts, and taking turns spreads the
    drift over all sides instead of favouring whichever ran in the quieter minute."""
    measured: list[list[Load]] = [[] for _ in sides]
    for _ in range(rounds):
        for side, kept in zip(sides, measured, strict=True):
            kept.append(side())
    return tuple(_median(kept) for kept in measured)


def _median(loads: list[Load]) -> Load:
    return Load(
        statistics.median(x.rps for x in loads),
        statistics.median(x.p50_ms for x in loads),
        sum(x.errors for x in loads),
    )


def p50(fn: Callable[[], Any], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


# -- data sets --------------------------------------------------------------------------------


@dataclass
class DataSet:
    store: str
    size: int
    data_dir: Path
    env: dict[str, str]
    key: str
    extra: list[str] = field(default_factory=list)

    @property
    def auth(self) -> str:
        return "Basic " + base64.b64encode(f"api:{self.key}".encode()).decode()

    @property
    def sqlite_file(self) -> Path:
        return self.data_dir / "instances" / "main.sqlite"

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.store == "sqlite":
            with sqlite3.connect(self.sqlite_file) as conn:
                return list(conn.execute(sql, params))
        import psycopg

        with psycopg.connect(PG_URL) as conn:
            conn.execute(f'SET search_path TO "{self.env["OFFICINA_SCHEMA_PREFIX"]}inst_main"')
            cur = conn.execute(sql.replace("?", "%s"), params or None)
            return list(cur) if cur.description else []

    def account_at(self, fraction: float) -> int:
        """The ID of an account that exists, at this fraction of the ID order (IDs have gaps
        once rows were added and removed, so the middle of the ID range may be no row)."""
        (count,) = self.query("SELECT count(*) FROM accounts")[0]
        (found,) = self.query(
            'SELECT "ID" FROM accounts ORDER BY "ID" LIMIT 1 OFFSET ?', (int(count * fraction),)
        )[0]
        return int(found)

    def forget_writes(self) -> None:
        """Remove the accounts R5 adds, also those of an interrupted earlier run."""
        self.query("DELETE FROM accounts WHERE lastname = 'Raw' OR lastname LIKE 'Bench%'")


def dataset(store: str, size: int, work: Path, tag: str = "bench") -> DataSet:
    """The benchmark data of one size on one store, made once and reused by later runs."""
    data_dir = work / f"{store}-{size}"
    env = {"OFFICINA_DATA_DIR": str(data_dir), "OFFICINA_DATABASE_URL": ""}
    extra: list[str] = []
    if store == "postgres":
        env = {
            "OFFICINA_DATA_DIR": str(data_dir),
            "OFFICINA_DATABASE_URL": PG_URL,
            "OFFICINA_SCHEMA_PREFIX": f"{tag}{size}_",
        }
    marker = data_dir / "ready"
    if not marker.exists() or not _still_there(store, data_dir, env):
        data_dir.mkdir(parents=True, exist_ok=True)
        if store == "postgres":
            _drop_schemas(env["OFFICINA_SCHEMA_PREFIX"])
        officina("init", "--json", env=env)
        started = time.perf_counter()
        officina("demo", "--size", str(size), env=env)
        (data_dir / "generated").write_text(f"{time.perf_counter() - started:.1f}")
        marker.write_text("ok")
    key = json.loads(
        officina("apikey", "create", "--email", "admin@example.com", "--json", env=env)
    )
    ds = DataSet(store, size, data_dir, env, key["api_key"], extra)
    ds.forget_writes()
    return ds


# Tables the measurements change (R5 adds and removes accounts, Flow bills and cancels).
CHURNED = (
    "accounts",
    "contacts",
    "flow_time_records",
    "flow_billings",
    "flow_billing_work_packages",
)


def tidy(ds: DataSet) -> None:
    """Vacuum what earlier measurements left behind on PostgreSQL, as autovacuum would on a
    live server (it may be switched off where the benchmarks run: then every billing and
    cancellation of 100 000 time records left 200 000 dead rows, and later runs slowed)."""
    if ds.store != "postgres":
        return
    import psycopg

    schema = ds.env["OFFICINA_SCHEMA_PREFIX"] + "inst_main"
    tables = ", ".join(f'"{schema}"."{t}"' for t in CHURNED)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {tables}")


def _still_there(store: str, data_dir: Path, env: dict[str, str]) -> bool:
    """Whether a data set made by an earlier run was not removed since (schemas dropped,
    files deleted)."""
    if store == "sqlite":
        return (data_dir / "instances" / "main.sqlite").exists()
    import psycopg

    schema = env["OFFICINA_SCHEMA_PREFIX"] + "inst_main"
    with psycopg.connect(PG_URL) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (f'"{schema}".accounts',)).fetchone()
        if found is None or found[0] is None:
            return False
        row = conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{schema}".accounts)').fetchone()
        return bool(row and row[0])


def _drop_schemas(prefix: str) -> None:
    """Schemas whose names start with ``prefix`` (compared as text: in LIKE, the ``_`` of
    "bench100_" would also match "bench1000000_")."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for (name,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE left(nspname, length(%s)) = %s",
            (prefix, prefix),
        ).fetchall():
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@contextmanager
def served(ds: DataSet, cfg: Settings | None = None) -> Iterator[str]:
    """``officina serve`` on the data set; ``cfg.pid`` names it while it runs."""
    port = free_port()
    argv = [sys.executable, "-m", "officina", "serve", "--port", str(port)]
    with process(argv, f"http://127.0.0.1:{port}/healthz", env=ds.env) as proc:
        if cfg is not None:
            cfg.pid = proc.pid
        yield f"http://127.0.0.1:{port}"


# -- benchmarks -------------------------------------------------------------------------------


@dataclass
class Settings:
    seconds: int
    connections: int
    runs: int
    use_wrk: bool
    rounds: int
    # py-spy, when flame graphs of the officina server are wanted (--flames).
    py_spy: str | None = None
    # The officina server being measured.
    pid: int = 0


def profiled(cfg: Settings, name: str, work: Callable[[], Any]) -> None:
    """Repeat a load while py-spy samples the officina server, into ``flame-<name>.svg``.

    A separate load, after the measured one: sampling slows the server down."""
    if cfg.py_spy is None or not cfg.pid:
        return
    recorder = subprocess.Popen(
        [
            cfg.py_spy,
            "record",
            "--pid",
            str(cfg.pid),
            "--rate",
            "200",
            "--duration",
            str(cfg.seconds),
            "--output",
            str(HERE / f"flame-{name}.svg"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    work()
    recorder.wait(timeout=cfg.seconds + 120)


def load(
    cfg: Settings, url: str, auth: str, method: str = "GET", body: Any = None, script: str = ""
) -> Load:
    if cfg.use_wrk:
        env = {"WRK_AUTH": auth, "WRK_METHOD": method, "WRK_BODY": json.dumps(body) if body else ""}
        return wrk(
            url,
            script or ("get.lua" if method == "GET" else "post.lua"),
            env,
            cfg.connections,
            cfg.seconds,
        )
    return python_load(
        lambda c: c.request(method, url, json=body, headers={"Authorization": auth}).status_code,
        cfg.connections,
        cfg.seconds,
    )


def r1(cfg: Settings, ds: DataSet, base: str) -> dict[str, Any]:
    some_id = ds.account_at(0.5)
    url = f"{base}/main/api/v1/accounts/{some_id}"
    answer = httpx.get(url, headers={"Authorization": ds.auth})
    assert answer.status_code == 200, f"R1 would measure {answer.status_code} answers"
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.bare_app:app",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    bare_url = f"http://127.0.0.1:{port}/main/api/v1/accounts/1"
    with process(argv, bare_url), floor_served(ds) as floor_base:
        floor_url = f"{floor_base}/main/api/v1/accounts/{some_id}"
        officina_load, bare, floor = alternate(
            cfg.rounds,
            lambda: load(cfg, url, ds.auth),
            lambda: load(cfg, bare_url, ds.auth),
            lambda: load(cfg, floor_url, ds.auth),
        )
    # A throughput of error answers would measure the wrong thing.
    assert officina_load.errors == bare.errors == floor.errors == 0, "R1 had failed requests"
    profiled(cfg, f"r1-get-account-{ds.store}", lambda: load(cfg, url, ds.auth))
    return {
        "officina_rps": officina_load.rps,
        "bare_rps": bare.rps,
        "floor_rps": floor.rps,
        "ratio": officina_load.rps / bare.rps,
        "floor_ratio": floor.rps / bare.rps,
        "errors": officina_load.errors,
    }


@contextmanager
def floor_served(ds: DataSet) -> Iterator[str]:
    """The floor of R1 and R5 (``floor_app.py``) on the data set's database."""
    port = free_port()
    env = {"FLOOR_SQLITE_FILE": str(ds.sqlite_file)}
    if ds.store == "postgres":
        schema = ds.env["OFFICINA_SCHEMA_PREFIX"] + "inst_main"
        env = {"FLOOR_POSTGRES_URL": PG_URL, "FLOOR_POSTGRES_SCHEMA": schema}
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.floor_app:app",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    probe = f"http://127.0.0.1:{port}/main/api/v1/accounts/{ds.account_at(0.5)}"
    with process(argv, probe, env=env):
        yield f"http://127.0.0.1:{port}"


LIST_BODY = {
    "filter": {"contact.city": "Bern", "currency": {"IN": ["CHF", "EUR"]}},
    "sort": ["lastname"],
    "fields": ["ID", "lastname", "contact.city"],
    "limit": 100,
}
# The statement officina itself runs for LIST_BODY (as its SQL log shows), so the anchor
# does the same database work: a case-insensitive sort with a case-sensitive tie-break.
LIST_SQL = {
    "sqlite": (
        'SELECT a."ID", a.lastname, c.city FROM accounts a '
        'LEFT JOIN contacts c ON c."ID" = a.contact AND c.fork IS NULL '
        "WHERE a.fork IS NULL AND c.city = ? AND a.currency IN (?, ?) "
        'ORDER BY ulower(a.lastname), a.lastname, a."ID" LIMIT 100'
    ),
    "postgres": (
        'SELECT a."ID", a.lastname, c.city FROM accounts a '
        'LEFT JOIN contacts c ON c."ID" = a.contact AND c.fork IS NULL '
        "WHERE a.fork IS NULL AND c.city = %s AND a.currency IN (%s, %s) "
        'ORDER BY lower(a.lastname) COLLATE "C" ASC NULLS LAST, '
        'a.lastname COLLATE "C" ASC NULLS LAST, a."ID" LIMIT 100'
    ),
}


def r2(cfg: Settings, ds: DataSet, base: str) -> dict[str, Any]:
    args = ("Bern", "CHF", "EUR")
    with httpx.Client(headers={"Authorization": ds.auth}, timeout=30) as client, _driver(ds) as db:
        rows = client.post(f"{base}/main/api/v1/accounts", json=LIST_BODY).json()
        assert len(rows) == min(100, len(rows)) and rows, "the list came back empty"
        sql = LIST_SQL[ds.store]
        api, direct = alternate(
            cfg.rounds,
            lambda: _latency(
                lambda: client.post(f"{base}/main/api/v1/accounts", json=LIST_BODY).content,
                cfg.runs,
            ),
            lambda: _latency(lambda: db.execute(sql, args).fetchall(), cfg.runs),
        )
    return {
        "api_p50_ms": api.p50_ms,
        "driver_p50_ms": direct.p50_ms,
        "ratio": api.p50_ms / direct.p50_ms,
    }


def _latency(fn: Callable[[], Any], runs: int) -> Load:
    return Load(0.0, p50(fn, runs), 0)


@contextmanager
def _driver(ds: DataSet) -> Iterator[Any]:
    """A plain driver connection to the data set, with what officina's SQL needs."""
    if ds.store == "sqlite":
        from officina.core.sqlfuncs import ulower

        conn = sqlite3.connect(ds.sqlite_file)
        conn.create_function("ulower", 1, ulower, deterministic=True)
        try:
            yield conn
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(PG_URL) as pg:
        pg.execute(f'SET search_path TO "{ds.env["OFFICINA_SCHEMA_PREFIX"]}inst_main"')
        yield pg


def r3(cfg: Settings, ds: DataSet, base: str, datasette: str | None) -> dict[str, Any]:
    if ds.store != "sqlite" or datasette is None:
        return {}
    start = ds.account_at(1 / 3)
    body = {"filter": {"ID": {">=": start, "<": start + 100}}, "limit": 100}
    url = f"{base}/main/api/v1/accounts"
    shown = httpx.post(url, json=body, headers={"Authorization": ds.auth}).json()
    (stored,) = ds.query(
        'SELECT count(*) FROM accounts WHERE "ID" >= ? AND "ID" < ?', (start, start + 100)
    )[0]
    assert 0 < len(shown) == stored, f"R3 would measure lists of {len(shown)} rows"
    port = free_port()
    argv = [
        datasette,
        "serve",
        "-i",
        str(ds.sqlite_file),
        "--port",
        str(port),
        "--setting",
        "default_page_size",
        "100",
    ]
    query = f"/main/accounts.json?_shape=array&_size=100&ID__gte={start}&ID__lt={start + 100}"
    with process(argv, f"http://127.0.0.1:{port}{query}"):
        ours, theirs = alternate(
            cfg.rounds,
            lambda: load(cfg, url, ds.auth, "POST", body),
            lambda: load(cfg, f"http://127.0.0.1:{port}{query}", ds.auth),
        )
    assert ours.errors == 0 and theirs.errors == 0, "R3 had failed requests"
    profiled(cfg, f"r3-list-accounts-{ds.store}", lambda: load(cfg, url, ds.auth, "POST", body))
    return {"officina_rps": ours.rps, "datasette_rps": theirs.rps, "ratio": ours.rps / theirs.rps}


def r4(cfg: Settings, small: DataSet, large: DataSet) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, ds in (("small", small), ("large", large)):
        (contact,) = ds.query('SELECT contact FROM accounts WHERE "ID" = ?', (ds.account_at(0.5),))[
            0
        ]
        with served(ds) as base, httpx.Client(headers={"Authorization": ds.auth}, timeout=120) as c:
            url = f"{base}/main/api/v1/accounts"
            body = {"filter": {"contact": contact}}

            def one(u: str = url, b: dict[str, Any] = body) -> bytes:
                return c.post(u, json=b).content

            out[f"{name}_p50_ms"] = p50(one, cfg.runs)
            started = time.perf_counter()
            out[f"{name}_count"] = c.post(url, json={"count": True}).json()["count"]
            out[f"{name}_count_ms"] = (time.perf_counter() - started) * 1000
    out["ratio"] = out["large_p50_ms"] / out["small_p50_ms"]
    return out


def r5(cfg: Settings, ds: DataSet, base: str) -> dict[str, Any]:
    writers = 32

    def writes(at: str = base) -> Load:
        if cfg.use_wrk:
            return wrk(
                f"{at}/main/api/v1/accounts",
                "put_accounts.lua",
                {"WRK_AUTH": ds.auth},
                writers,
                cfg.seconds,
            )
        return python_load(
            lambda c: (
                c.put(
                    f"{at}/main/api/v1/accounts",
                    json={"lastname": "Bench", "currency": "CHF"},
                    headers={"Authorization": ds.auth},
                ).status_code
            ),
            writers,
            cfg.seconds,
        )

    sql = (
        "INSERT INTO accounts (lastname, currency, creationdate, lastmodified, visibility) "
        "VALUES (?, ?, ?, ?, 0)"
    )

    def raw_inserts() -> Load:
        count = 0
        stop = time.monotonic() + cfg.seconds
        if ds.store == "sqlite":
            conn = sqlite3.connect(ds.sqlite_file, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            while time.monotonic() < stop:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(sql, ("Raw", "CHF", 0, 0))
                conn.execute("COMMIT")
                count += 1
            conn.close()
        else:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as pg:
                pg.execute(f'SET search_path TO "{ds.env["OFFICINA_SCHEMA_PREFIX"]}inst_main"')
                while time.monotonic() < stop:
                    pg.execute(sql.replace("?", "%s"), ("Raw", "CHF", 0, 0))
                    count += 1
        return Load(count / cfg.seconds, 0.0, 0)

    with floor_served(ds) as floor_base:
        api, driver, floor = alternate(cfg.rounds, writes, raw_inserts, lambda: writes(floor_base))
    raw = driver.rps
    profiled(cfg, f"r5-put-accounts-{ds.store}", writes)
    # Leave the data set as it was, so later runs measure the same thing.
    ds.forget_writes()
    return {
        "api_rps": api.rps,
        "driver_rps": raw,
        "floor_rps": floor.rps,
        "ratio": api.rps / raw,
        "floor_ratio": floor.rps / raw,
        "errors": api.errors,
        "writers": writers,
    }


def flow(cfg: Settings, ds: DataSet, base: str) -> dict[str, Any]:
    packages = [r[0] for r in ds.query("SELECT DISTINCT work_package_id FROM flow_time_records")]
    (project,) = ds.query(
        "SELECT id FROM flow_nodes WHERE node_type = 'project' AND name = 'Scale project'"
    )[0]
    (records,) = ds.query("SELECT count(*) FROM flow_time_records WHERE billing_id IS NULL")[0]
    with httpx.Client(headers={"Authorization": ds.auth}, timeout=600) as c:
        search = {
            "and": [
                {"ident": "descendantsOf", "value": project},
                {"ident": "name", "value": "Bern"},
            ]
        }
        url = f"{base}/main/flow/api/v1/workPackages/search"
        search_ms = p50(lambda: c.post(url, json=search).content, max(5, cfg.runs // 10))
        started = time.perf_counter()
        r = c.post(
            f"{base}/main/flow/api/v1/billings",
            json={"projectId": project, "workPackageIds": packages},
        )
        billing_s = time.perf_counter() - started
        assert r.status_code == 201, r.text[:300]
        c.delete(f"{base}/main/flow/api/v1/billings/{r.json()['id']}")
    tidy(ds)
    (nodes,) = ds.query("SELECT count(*) FROM flow_nodes")[0]
    return {"billing_s": billing_s, "records": records, "search_p50_ms": search_ms, "nodes": nodes}


# -- report -----------------------------------------------------------------------------------


def versions(datasette: str | None) -> dict[str, str]:
    import officina

    found = {
        "officina": officina.__version__,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }
    cpu = Path("/proc/cpuinfo")
    if cpu.exists():
        model = re.search(r"model name\s*:\s*(.+)", cpu.read_text())
        found["cpu"] = model.group(1) if model else "?"
    if shutil.which("wrk"):
        found["wrk"] = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True
        ).stdout.split("\n")[0][:60]
    if datasette:
        found["datasette"] = subprocess.run(
            [datasette, "--version"], capture_output=True, text=True
        ).stdout.strip()
    try:
        import psycopg

        with psycopg.connect(PG_URL) as pg:
            found["postgresql"] = pg.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    except Exception:
        found["postgresql"] = "not reachable"
    return found


def report(
    out: Path, info: dict[str, str], args: argparse.Namespace, results: dict[str, dict[str, Any]]
) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `python benchmarks/run.py {' '.join(sys.argv[1:])}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Every ratio compares two numbers "
        "measured in this run on this machine.",
        "",
        "## Machine and versions",
        "",
        *[f"- {k}: {v}" for k, v in info.items()],
        "",
        f"Load: {'wrk, 1 thread' if not args.smoke else 'in-process threads (smoke run)'}, "
        f"{args.connections} connections (32 for writes), {args.seconds} s per measurement; "
        f"latencies are medians of {args.runs} sequential requests over one keep-alive connection. "
        f"officina and its anchor take turns, {args.rounds} rounds each, and each side's median "
        "is kept (R1, R2, R3, R5).",
        "",
    ]
    targets = {
        "R1": (
            "GET one account ÷ bare JSON endpoint (throughput)",
            "≥ 0.6 SQLite, ≥ 0.5 PostgreSQL",
        ),
        "R2": ("filtered, sorted, joined list of 100 ÷ same SQL via driver (p50)", "≤ 1.5"),
        "R3": ("officina ÷ Datasette, equivalent filtered list (throughput)", "≥ 3"),
        "R4": ("indexed filter at large size ÷ at small size (p50)", "≤ 1.5"),
        "R5": ("PUT /accounts, 32 writers ÷ raw driver inserts, one transaction each", "≥ 0.3"),
    }
    for store, res in results.items():
        lines += [
            f"## {store}",
            "",
            "| measure | what | officina | anchor | ratio | target |",
            "|---|---|---|---|---|---|",
        ]
        lines += [_row(*cells) for cells in _rows(res, targets)]
        gen = res.get("generated")
        if gen:
            lines += ["", f"Generating the data set took {gen} s."]
        lines.append("")
    out.write_text("\n".join(lines))


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _rows(res: dict[str, Any], targets: dict[str, tuple[str, str]]) -> Iterator[tuple[str, ...]]:
    if "R1" in res:
        v = res["R1"]
        yield (
            "R1",
            targets["R1"][0],
            f"{v['officina_rps']:.0f} req/s",
            f"{v['bare_rps']:.0f} req/s",
            f"{v['ratio']:.2f}",
            targets["R1"][1],
        )
        yield (
            "R1 floor",
            "the same row read straight through the driver behind the same stack, and "
            "nothing else (`floor_app.py`) ÷ bare: the highest R1 this machine allows",
            f"{v['floor_rps']:.0f} req/s",
            f"{v['bare_rps']:.0f} req/s",
            f"{v['floor_ratio']:.2f}",
            f"officina ÷ floor: {v['officina_rps'] / v['floor_rps']:.2f}",
        )
    if "R2" in res:
        v = res["R2"]
        yield (
            "R2",
            targets["R2"][0],
            f"{v['api_p50_ms']:.2f} ms",
            f"{v['driver_p50_ms']:.2f} ms",
            f"{v['ratio']:.2f}",
            targets["R2"][1],
        )
    if res.get("R3"):
        v = res["R3"]
        yield (
            "R3",
            targets["R3"][0],
            f"{v['officina_rps']:.0f} req/s",
            f"{v['datasette_rps']:.0f} req/s",
            f"{v['ratio']:.2f}",
            targets["R3"][1],
        )
    if "R4" in res:
        v = res["R4"]
        sizes = f"({v['large_count']} vs {v['small_count']} accounts)"
        yield (
            "R4",
            f"{targets['R4'][0]} {sizes}",
            f"{v['large_p50_ms']:.2f} ms",
            f"{v['small_p50_ms']:.2f} ms",
            f"{v['ratio']:.2f}",
            targets["R4"][1],
        )
        yield (
            "R4",
            f"`count` over {v['large_count']} accounts",
            f"{v['large_count_ms']:.0f} ms",
            f"{v['small_count_ms']:.1f} ms ({v['small_count']})",
            "—",
            "reported",
        )
    if "R5" in res:
        v = res["R5"]
        yield (
            "R5",
            targets["R5"][0],
            f"{v['api_rps']:.0f} rows/s",
            f"{v['driver_rps']:.0f} rows/s",
            f"{v['ratio']:.2f}",
            f"{targets['R5'][1]}; failed writes: {v['errors']}",
        )
        yield (
            "R5 floor",
            "the same insert straight through the driver behind the same stack, 32 writers, "
            "and nothing else (`floor_app.py`) ÷ raw inserts: the highest R5 this machine allows",
            f"{v['floor_rps']:.0f} rows/s",
            f"{v['driver_rps']:.0f} rows/s",
            f"{v['floor_ratio']:.2f}",
            f"officina ÷ floor: {v['api_rps'] / v['floor_rps']:.2f}",
        )
    if "flow" in res:
        v = res["flow"]
        yield (
            "Flow",
            f"billing over {v['records']} time records",
            f"{v['billing_s']:.2f} s",
            "—",
            "—",
            "< 2 s",
        )
        yield (
            "Flow",
            f"complex search in a {v['nodes']}-node tree (p50)",
            f"{v['search_p50_ms']:.1f} ms",
            "—",
            "—",
            "reported",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="rows of the main data set")
    parser.add_argument("--small", type=int, default=10_000, help="small data set for R4")
    parser.add_argument("--large", type=int, default=1_000_000, help="large data set for R4")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--seconds", type=int, default=5, help="per load measurement")
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns of officina and its anchor (medians kept)"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--work", type=Path, default=HERE / ".work")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--smoke", action="store_true", help="tiny data, no wrk, seconds in all")
    parser.add_argument("--tag", default="bench", help="prefix of the PostgreSQL schemas")
    parser.add_argument(
        "--flames", action="store_true", help="also write py-spy flame graphs of the server"
    )
    args = parser.parse_args()
    if args.smoke:
        args.size, args.small, args.large, args.seconds, args.runs, args.connections = (
            300,
            100,
            300,
            1,
            10,
            4,
        )
        args.rounds = 1
    use_wrk = not args.smoke and ensure_wrk() is not None
    if not args.smoke and not use_wrk:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    datasette = None if args.smoke else ensure_tool("datasette", "datasette")
    py_spy = ensure_tool("py-spy", "py-spy") if args.flames and not args.smoke else None
    cfg = Settings(args.seconds, args.connections, args.runs, use_wrk, args.rounds, py_spy)
    results: dict[str, dict[str, Any]] = {}
    for store in args.stores.split(","):
        name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[store]
        print(f"[{name}] preparing data ({args.size} rows)", flush=True)
        main_ds = dataset(store, args.size, args.work, args.tag)
        res: dict[str, Any] = {"generated": (main_ds.data_dir / "generated").read_text()}
        with served(main_ds, cfg) as base:
            for label, fn in (("R1", r1), ("R2", r2), ("R5", r5), ("flow", flow)):
                tidy(main_ds)
                print(f"[{name}] {label}", flush=True)
                res[label] = fn(cfg, main_ds, base)
            print(f"[{name}] R3", flush=True)
            res["R3"] = r3(cfg, main_ds, base, datasette)
        print(f"[{name}] R4 ({args.small} vs {args.large})", flush=True)
        res["R4"] = r4(
            cfg,
            dataset(store, args.small, args.work, args.tag),
            dataset(store, args.large, args.work, args.tag),
        )
        results[name] = res
    report(args.out, versions(datasette), args, results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
