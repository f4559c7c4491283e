"""The records-face entity registry: the generated catalogue with officina's decisions.

``catalog.py`` is generated from the vendor references by ``tools/gen_registry.py``;
``overrides.py`` applies the hand decisions of the records-face guide on top of it.
``seed_entities.py`` adds the seed-only modules the current vendor contract no longer has.
"""

from __future__ import annotations

from officina.zeyos.registry import catalog, overrides
from officina.zeyos.registry.model import Entity
from officina.zeyos.registry.seed_entities import SEED_ENTITIES

# The 64 entities of the vendor contract.
VENDOR_ENTITIES: frozenset[str] = frozenset(catalog.CATALOG)

if VENDOR_ENTITIES & set(SEED_ENTITIES):
    raise RuntimeError("seed-only entities must not shadow vendor entities")

# Every entity officina knows: the vendor contract (with decisions) plus the seed-only modules.
ENTITIES: dict[str, Entity] = {**overrides.apply(catalog.CATALOG), **SEED_ENTITIES}

# Entity names a polymorphic ("t_entity") column may hold, in the vendor's order.
CANONICAL_ENTITY_NAMES: tuple[str, ...] = tuple(catalog.CANONICAL_ENTITY_NAMES)


def get(name: str) -> Entity | None:
    """The entity named ``name`` (vendor or seed-only), or None."""
    return ENTITIES.get(name)


__all__ = ["CANONICAL_ENTITY_NAMES", "ENTITIES", "VENDOR_ENTITIES", "Entity", "get"]
