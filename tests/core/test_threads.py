"""How many threads a worker gives store work, by store and by setting."""

from __future__ import annotations

import dataclasses

import anyio.to_thread
import pytest
from starlette.testclient import TestClient

from officina.app import build_app
from officina.settings import Settings


def test_threads_follow_the_store_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OFFICINA_THREADS", raising=False)
    assert Settings().store_threads == 2
    assert Settings(database_url="postgresql://db/x").store_threads == 40
    monkeypatch.setenv("OFFICINA_THREADS", "7")
    assert Settings.from_env().threads == 7
    assert Settings.from_env(database_url="postgresql://db/x").store_threads == 7


def test_a_served_app_uses_its_thread_count(env) -> None:  # type: ignore[no-untyped-def]
    seen: list[int] = []

    async def probe() -> None:
        seen.append(int(anyio.to_thread.current_default_thread_limiter().total_tokens))

    settings = dataclasses.replace(env.settings, threads=3)
    with TestClient(build_app(settings, env.instances)) as client:
        response = client.get("/main/api/v1/accounts/1", headers=env.admin_headers)
        assert response.status_code == 404
        client.portal.call(probe)  # type: ignore[union-attr]
    assert seen == [3]
