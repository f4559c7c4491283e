"""Migration ``goana_0002`` on an instance made before the French status name was corrected:
the misspelt default becomes 'En cours' and a name an administrator chose stays; on both
stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from officina.core.store import Instances, Store
from tests.conftest import STORES
from tests.test_migration_auth import _to, at_revision


@pytest.fixture(params=STORES)
def older(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Instances, Store]]:
    with at_revision(request.param, tmp_path, "goana_0001") as found:
        yield found


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
