"""The records-face entity registry: the generated catalogue with officina's decisions."""

from __future__ import annotations

from officina.zeyos.registry.catalog import CANONICAL_ENTITY_NAMES, CATALOG
from officina.zeyos.registry.model import Entity
from officina.zeyos.registry.overrides import apply

ENTITIES: dict[str, Entity] = apply(CATALOG)


def get(name: str) -> Entity | None:
    return ENTITIES.get(name)


__all__ = ["CANONICAL_ENTITY_NAMES", "ENTITIES", "Entity", "get"]
