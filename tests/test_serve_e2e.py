"""A real ``officina serve`` process, called over a socket with every credential scheme."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy import text

import officina
from officina.cli import CREDENTIALS_TAG
from officina.core import people
from officina.core.sessions import create_session
from officina.core.store import Instances, postgres_engine
from officina.settings import Settings
from tests.conftest import PG_URL, STORES, basic

pytestmark = pytest.mark.e2e

SRC = str(Path(officina.__file__).resolve().parents[1])
START_TIMEOUT = 120  # generous: a loaded 2-core CI machine starts slowly


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


@dataclass
class Server:
    base: str
    creds: dict[str, Any]
    settings: Settings
    process: subprocess.Popen[str]
    stderr_path: Path

    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-4000:]


def _wait_for_credentials(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        if line.startswith(CREDENTIALS_TAG + " "):
            return dict(json.loads(line[len(CREDENTIALS_TAG) + 1 :]))
    raise AssertionError("the server printed no credentials line")


def _wait_healthy(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server never became healthy")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def launch(
    kind: str, tmp_path: Path, *extra: str, database_url: str | None = None
) -> Iterator[Server]:
    """Start ``officina serve`` on a free port of a fresh store; stop and clean up after.

    ``database_url``: where the server reaches PostgreSQL, when not straight at the test
    database (through a pooler, say); the test itself still cleans up there."""
    port = free_port()
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFICINA_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
    argv = [sys.executable, "-m", "officina", "serve", "--port", str(port)]
    argv += ["--data-dir", str(data_dir), *extra]
    prefix = ""
    if kind == "postgres":
        assert PG_URL
        prefix = f"e{uuid.uuid4().hex[:8]}_"
        env["OFFICINA_SCHEMA_PREFIX"] = prefix
        argv += ["--database-url", database_url or PG_URL]
        settings = Settings(database_url=PG_URL, schema_prefix=prefix)
    else:
        settings = Settings(data_dir=data_dir)
    stderr_path = tmp_path / "server.log"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    try:
        creds = _wait_for_credentials(proc, lines)
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, proc)
        yield Server(base, creds, settings, proc, stderr_path)
    finally:
        _stop(proc)
        if kind == "postgres":
            _drop(settings)


@pytest.fixture(params=STORES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    with launch(request.param, tmp_path) as running:
        yield running


def _drop(settings: Settings) -> None:
    assert PG_URL
    instances = Instances(settings)
    schemas = instances.schemas()
    instances.close()
    with postgres_engine(PG_URL).begin() as conn:
        for schema in schemas:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _session_id(server: Server) -> str:
    """A ZEYOSID session written straight into the server's store, as a login page would."""
    instances = Instances(server.settings)
    try:
        with instances.get("main").write() as conn:
            user_id = people.user_id_by_email(conn, server.creds["email"])
            return create_session(conn, user_id, "127.0.0.1")
    finally:
        instances.close()


def _schemes(server: Server) -> dict[str, dict[str, str]]:
    creds = server.creds
    login = httpx.post(
        f"{server.base}/main/auth/v1/login",
        data={"name": creds["email"], "password": creds["password"], "identifier": "e2e"},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    return {
        "basic-password": basic(creds["email"], creds["password"]),
        "basic-apikey": basic("api", creds["api_key"]),
        "bearer": {"Authorization": f"Bearer {login.json()['token']}"},
        "cookie": {"Cookie": f"ZEYOSID={_session_id(server)}"},
    }


def test_every_scheme_over_a_real_socket(server: Server) -> None:
    creds = server.creds
    assert creds["instance"] == "main" and creds["email"] == "admin@example.com"
    assert creds["base_url"] == server.base
    schemes = _schemes(server)
    with httpx.Client(base_url=server.base, timeout=30) as client:
        assert client.get("/main/auth/v1/").status_code == 401
        for name, headers in schemes.items():
            info = client.get("/main/auth/v1/", headers=headers)
            assert info.status_code == 200, (name, info.text, server.log())
            assert info.json()["email"] == creds["email"], name
        for name, headers in schemes.items():
            listing = client.post("/main/api/v1/accounts", headers=headers, json={})
            assert listing.status_code == 200, (name, listing.text)


def test_restart_prints_no_secrets(server: Server, tmp_path: Path) -> None:
    """A second start on the same store finds the instance and prints no credentials."""
    _stop(server.process)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFICINA_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
    env["OFFICINA_SCHEMA_PREFIX"] = server.settings.schema_prefix
    argv = [sys.executable, "-m", "officina", "serve", "--port", str(port)]
    if server.settings.database_url:
        argv += ["--database-url", server.settings.database_url]
    else:
        argv += ["--data-dir", str(server.settings.data_dir)]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    pump = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    pump.start()
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, proc)
        headers = basic("api", server.creds["api_key"])
        assert httpx.get(f"{base}/main/auth/v1/", headers=headers, timeout=30).status_code == 200
    finally:
        _stop(proc)
    pump.join(timeout=10)
    out = "".join(lines.queue)
    assert CREDENTIALS_TAG not in out
    assert server.creds["password"] not in out and server.creds["api_key"] not in out


def test_jobs_face_over_a_real_socket(server: Server) -> None:
    """The jobs face on a running server: every scheme, a template in German, a job in English."""
    schemes = _schemes(server)
    base = "/main/goana/api/v1"
    with httpx.Client(base_url=server.base, timeout=30) as client:
        denied = client.get(f"{base}/jobs")
        assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith("Basic")
        for name, headers in schemes.items():
            assert client.get(f"{base}/statuses", headers=headers).status_code == 200, name
        admin = schemes["basic-apikey"]
        made = client.post(
            f"{base}/jobtemplates",
            headers={**admin, "Content-Language": "de"},
            json={
                "Title": "Pizza Lieferung",
                "Parameters": [{"Name": "N", "Type": "Text", "Title": "Notiz"}],
            },
        )
        assert made.status_code == 201, made.text
        job = client.post(
            f"{base}/jobs",
            headers=admin,
            json={
                "Key": "2024/0001",
                "JobTemplateTitle": "Pizza Lieferung",
                "Parameters": [{"Name": "N", "Value": "x"}],
            },
        )
        assert job.status_code == 201, job.text
        moved = client.post(
            f"{base}/jobs/2024%2F0001/status", headers=admin, json={"Status": "In Progress"}
        )
        assert moved.status_code == 200
        found = client.get(
            f"{base}/jobs",
            headers={**admin, "Accept-Language": "fr"},
            params={"statusName": "In Progress", "jobTemplateTitle": "Pizza Lieferung"},
        )
        assert [j["Key"] for j in found.json()] == ["2024/0001"]
        assert found.json()[0]["StatusDisplayName"] == "En cours"
        assert client.get(f"{base}/openapi.json").status_code == 200
