"""Migration ``goana_0002`` on an instance made before the French status name was corrected:
the misspelt default becomes 'En cours' and a name an administrator chose stays; on both
stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from officina.core.store import Instances, Store
from officina.settings import Settings
from tests.conftest import PG_URL, STORES
from tests.test_migration_auth import _to


@pytest.fixture(params=STORES)
def older(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Instances, Store]]:
    if request.param == "postgres":
        assert PG_URL
        settings = Settings(database_url=PG_URL, schema_prefix=f"g{uuid.uuid4().hex[:8]}_")
    else:
        settings = Settings(data_dir=tmp_path / "data")
    instances = Instances(settings, prepare=lambda store: _to(store, "goana_0001"))
    try:
        yield instances, instances.create("main")
    finally:
        if request.param == "postgres":
            with instances.get("main").engine.begin() as conn:
                for schema in instances.schemas():
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        instances.close()


def _set(store: Store, sql: str) -> None:
    with store.engine.begin() as conn:
        if store.schema:
            conn.execute(text(f'SET LOCAL search_path TO "{store.schema}"'))
        conn.execute(text(sql))


def _names(store: Store) -> dict[tuple[int, str], str]:
    with store.engine.begin() as conn:
        if store.schema:
            conn.execute(text(f'SET LOCAL search_path TO "{store.schema}"'))
        rows = conn.execute(
            text("SELECT owner, lang, text FROM translations WHERE kind = 'status'")
        ).all()
    return {(r.owner, r.lang): r.text for r in rows}


def test_the_misspelt_default_is_corrected(older: tuple[Instances, Store]) -> None:
    _, store = older
    # what instances made before the seed was corrected hold
    _set(
        store,
        "UPDATE translations SET text = 'En course', norm = 'en course' "
        "WHERE kind = 'status' AND owner = 2 AND lang = 'fr'",
    )
    _to(store, "heads")
    names = _names(store)
    assert names[(2, "fr")] == "En cours"
    assert names[(2, "en")] == "In Progress"


def test_a_chosen_name_stays(older: tuple[Instances, Store]) -> None:
    _, store = older
    _set(
        store,
        "UPDATE translations SET text = 'Commencé', norm = 'commencé' "
        "WHERE kind = 'status' AND owner = 2 AND lang = 'fr'",
    )
    _to(store, "heads")
    assert _names(store)[(2, "fr")] == "Commencé"
