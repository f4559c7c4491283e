"""The small lookup resources Flow refers to but does not document (officina extensions).

Labels, price categories, price surcharges and project roles share one shape: an id, a few
plain properties, list/get/create/patch/delete. Each is described once by a :class:`Lookup`;
the differences are the properties and what deleting one must check or clean up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.engine import Connection, Row

from officina.core.changes import Actor
from officina.core.logged import delete_where, insert_row, update_where
from officina.core.sqlfuncs import byte_order, lowered
from officina.flow import models
from officina.flow.body import Body
from officina.flow.errors import conflict
from officina.flow.tables import (
    customers,
    labels,
    node_labels,
    nodes,
    price_categories,
    price_surcharges,
    project_roles,
    time_records,
)
from officina.flow.values import from_cents


@dataclass(frozen=True)
class Lookup:
    path: str
    noun: str
    tag: str
    table: Any
    # wire property → (column, default on create)
    fields: dict[str, tuple[str, Any]]
    cents: frozenset[str]
    create_model: type[Body]
    patch_model: type[Body]
    before_delete: Callable[[Connection, Row[Any], int, Actor], None]

    def serialize(self, row: Row[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": row.id}
        for prop, (column, _) in self.fields.items():
            value = getattr(row, column)
            out[prop] = from_cents(value) if prop in self.cents else value
        return out

    def fetch(self, conn: Connection, ids: list[str] | None) -> list[dict[str, Any]]:
        stmt = select(self.table).order_by(
            byte_order(lowered(self.table.c.name), conn.dialect.name), self.table.c.id
        )
        if ids is not None:
            stmt = stmt.where(self.table.c.id.in_(ids))
        rows = [self.serialize(r) for r in conn.execute(stmt)]
        if ids is None:
            return rows
        found = {o["id"]: o for o in rows}
        return [found[i] for i in ids if i in found]

    def load(self, conn: Connection, item_id: str) -> Row[Any] | None:
        return conn.execute(select(self.table).where(self.table.c.id == item_id)).first()

    def create(self, conn: Connection, item_id: str, body: Body, actor: Actor) -> None:
        if self.load(conn, item_id) is not None:
            raise conflict("id_exists", f"a {self.noun} with id {item_id} already exists")
        values = {column: default for column, default in self.fields.values()}
        values.update(self._given(body))
        insert_row(conn, actor, self.table, {"id": item_id, **values})

    def patch(self, conn: Connection, row: Row[Any], body: Body, actor: Actor) -> None:
        values = self._given(body)
        if values:
            update_where(conn, actor, self.table, self.table.c.id == row.id, values)

    def delete(self, conn: Connection, row: Row[Any], ts: int, actor: Actor) -> None:
        self.before_delete(conn, row, ts, actor)
        delete_where(conn, actor, self.table, self.table.c.id == row.id)

    def _given(self, body: Body) -> dict[str, Any]:
        return {self.fields[k][0]: v for k, v in body.sent().items() if k in self.fields}


def _count(conn: Connection, *conditions: Any) -> int:
    return sum(int(conn.execute(select(func.count()).where(c)).scalar_one()) for c in conditions)


def _named_in(column: Any, item_id: str) -> Any:
    """A JSON object column has ``item_id`` as a key (ids are 32 hex, so text search is exact)."""
    return cast(column, Text).like(f'%"{item_id}"%')


def _label_cleanup(conn: Connection, row: Row[Any], ts: int, actor: Actor) -> None:
    # The label disappears from the nodes' JSON: their lastChanged moves.
    holders = select(node_labels.c.node_id).where(node_labels.c.label_id == row.id)
    update_where(conn, actor, nodes, nodes.c.id.in_(holders), {"last_changed": ts})


def _category_in_use(conn: Connection, row: Row[Any], ts: int, actor: Actor) -> None:
    used = _count(
        conn,
        nodes.c.price_category_id == row.id,
        nodes.c.default_price_category_id == row.id,
        time_records.c.price_category_id == row.id,
        _named_in(customers.c.price_category_overrides, row.id),
    )
    if used:
        raise conflict("in_use", "the price category is in use; disable it instead")


def _surcharge_in_use(conn: Connection, row: Row[Any], ts: int, actor: Actor) -> None:
    used = _count(
        conn,
        time_records.c.price_surcharge_id == row.id,
        _named_in(customers.c.price_surcharge_overrides, row.id),
    )
    if used:
        raise conflict("in_use", "the price surcharge is in use; disable it instead")


def _nothing(conn: Connection, row: Row[Any], ts: int, actor: Actor) -> None:
    """Project roles: their assignments go with them (foreign key cascade)."""


LOOKUPS = [
    Lookup(
        "labels",
        "label",
        "Labels (X)",
        labels,
        {"name": ("name", ""), "color": ("color", "")},
        frozenset(),
        models.LabelCreate,
        models.LabelPatch,
        _label_cleanup,
    ),
    Lookup(
        "priceCategories",
        "price category",
        "Price categories (X)",
        price_categories,
        {
            "name": ("name", ""),
            "hourlyRate": ("hourly_rate_c", 0),
            "isDisabled": ("is_disabled", False),
        },
        frozenset({"hourlyRate"}),
        models.PriceCategoryCreate,
        models.PriceCategoryPatch,
        _category_in_use,
    ),
    Lookup(
        "priceSurcharges",
        "price surcharge",
        "Price surcharges (X)",
        price_surcharges,
        {
            "name": ("name", ""),
            "percentage": ("percentage_c", 0),
            "isDisabled": ("is_disabled", False),
        },
        frozenset({"percentage"}),
        models.PriceSurchargeCreate,
        models.PriceSurchargePatch,
        _surcharge_in_use,
    ),
    Lookup(
        "projectRoles",
        "project role",
        "Project roles (X)",
        project_roles,
        {"name": ("name", ""), "isProjectManager": ("is_project_manager", False)},
        frozenset(),
        models.ProjectRoleCreate,
        models.ProjectRolePatch,
        _nothing,
    ),
]
