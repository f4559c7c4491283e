"""A server sets aside what it holds from its start before serving, so that the cyclic
garbage collector's full passes do not walk it again and again (see ``_settle_heap``)."""

from __future__ import annotations

import gc
import signal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient
from typer.testing import CliRunner

from officina.cli import _app_factory, app

# Far fewer objects than a built application holds (modules, tables, the entity registry).
SOME = 20_000


@pytest.fixture
def fresh_heap() -> Any:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_each_worker_sets_its_start_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_heap: Any
) -> None:
    monkeypatch.setenv("OFFICINA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OFFICINA_DATABASE_URL", "")
    assert gc.get_freeze_count() == 0
    asgi = _app_factory()
    assert gc.get_freeze_count() > SOME
    with TestClient(asgi) as client:
        assert client.get("/healthz").status_code == 200


def test_a_single_process_server_sets_its_start_aside_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_heap: Any
) -> None:
    seen: dict[str, int] = {}

    def run(asgi: Any, **options: Any) -> None:
        seen["frozen"] = gc.get_freeze_count()
        seen["port"] = options["port"]

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(signal, "signal", lambda *handler: None)
    monkeypatch.setenv("OFFICINA_DATABASE_URL", "")
    result = CliRunner().invoke(
        app, ["serve", "--data-dir", str(tmp_path), "--port", "8765", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert seen["port"] == 8765
    assert seen["frozen"] > SOME
