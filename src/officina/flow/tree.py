"""The node tree: parent rules, the root folder, ancestry, sibling order, archive, delete.

Nodes never move, so the closure table is written once when a node is created; every
question about a subtree or an ancestor chain is then one indexed query on it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exc, func, select
from sqlalchemy.engine import Connection, Row

from officina.core.changes import Actor
from officina.core.ids import new_uuid
from officina.core.logged import delete_where, insert_row, insert_rows, update_where
from officina.core.people import read_settings
from officina.flow import enums
from officina.flow.errors import FlowError, conflict
from officina.flow.tables import (
    ancestry,
    billing_work_packages,
    billings,
    nodes,
    time_records,
)

# Allowed parent types per node type, and the words used when a parent is refused.
PARENTS: dict[str, tuple[frozenset[str], str]] = {
    enums.FOLDER: (frozenset({enums.FOLDER}), "must be a project folder"),
    enums.PROJECT: (frozenset({enums.FOLDER}), "must be a project folder"),
    enums.GROUP: (frozenset({enums.PROJECT, enums.GROUP}), "must be a project or a group"),
    enums.WORK_PACKAGE: (frozenset({enums.PROJECT, enums.GROUP}), "must be a project or a group"),
    enums.SUB_WORK_PACKAGE: (frozenset({enums.WORK_PACKAGE}), "must be a work package"),
    enums.TASK: (frozenset({enums.WORK_PACKAGE, enums.TASK}), "must be a work package or a task"),
}

# Node types that share one sibling order below the same parent.
SIBLING_SETS: dict[str, frozenset[str]] = {
    enums.GROUP: frozenset({enums.GROUP, enums.WORK_PACKAGE}),
    enums.WORK_PACKAGE: frozenset({enums.GROUP, enums.WORK_PACKAGE}),
    enums.SUB_WORK_PACKAGE: frozenset({enums.SUB_WORK_PACKAGE}),
    enums.TASK: frozenset({enums.TASK}),
}

ROOT_KEY = "root"
ROOT_FALLBACK_NAME = "Projects"


def load(conn: Connection, node_id: str, node_type: str | None = None) -> Row[Any] | None:
    """One node row, or None when it does not exist (or is not of ``node_type``)."""
    stmt = select(nodes).where(nodes.c.id == node_id)
    if node_type is not None:
        stmt = stmt.where(nodes.c.node_type == node_type)
    return conn.execute(stmt).first()


def root_id(conn: Connection) -> str | None:
    return conn.execute(select(nodes.c.id).where(nodes.c.root_key == ROOT_KEY)).scalar()


def ensure_root(conn: Connection, ts: int, actor: Actor) -> str:
    """The root project folder's id, creating the folder on first need.

    An instance gets its root folder lazily (on the first write that needs it, or the first
    search for it) so that no other part of officina has to know about Flow.
    """
    found = root_id(conn)
    if found is not None:
        return found
    settings = read_settings(conn)
    name = str(settings.get("company") or settings.get("name") or ROOT_FALLBACK_NAME)[:191]
    new_id = new_uuid()
    try:
        with conn.begin_nested():
            insert_row(
                conn,
                actor,
                nodes,
                {
                    "id": new_id,
                    "node_type": enums.FOLDER,
                    "parent_id": None,
                    "project_id": None,
                    "root_key": ROOT_KEY,
                    "name": name,
                    "name_cf": name.casefold(),
                    "key_value_store": {},
                    "created_on": ts,
                    "last_changed": ts,
                    "last_changed_on": ts,
                    "last_changed_by": None,
                },
            )
            add_ancestry(conn, new_id, None, actor)
    except exc.IntegrityError:
        # Another worker created it at the same moment.
        existing = root_id(conn)
        assert existing is not None
        return existing
    return new_id


def add_ancestry(conn: Connection, node_id: str, parent_id: str | None, actor: Actor) -> None:
    rows = [{"ancestor_id": node_id, "descendant_id": node_id, "depth": 0}]
    if parent_id is not None:
        for anc in conn.execute(
            select(ancestry.c.ancestor_id, ancestry.c.depth).where(
                ancestry.c.descendant_id == parent_id
            )
        ):
            rows.append(
                {"ancestor_id": anc.ancestor_id, "descendant_id": node_id, "depth": anc.depth + 1}
            )
    insert_rows(conn, actor, ancestry, rows)


def subtree_ids(node_id: str) -> Any:
    """A sub-select of the node's id and every descendant's id."""
    return select(ancestry.c.descendant_id).where(ancestry.c.ancestor_id == node_id)


def descendant_ids(node_id: str) -> Any:
    return select(ancestry.c.descendant_id).where(
        ancestry.c.ancestor_id == node_id, ancestry.c.depth > 0
    )


def bump_descendants(conn: Connection, node_id: str, ts: int, actor: Actor) -> None:
    """Their JSON changed through an ancestor (inherited lists, customer): ``lastChanged``."""
    update_where(conn, actor, nodes, nodes.c.id.in_(descendant_ids(node_id)), {"last_changed": ts})


# -- sibling order ---------------------------------------------------------------------------


def _siblings(conn: Connection, node_type: str, parent_id: str) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(nodes.c.id, nodes.c.sort_order)
            .where(
                nodes.c.parent_id == parent_id,
                nodes.c.node_type.in_(sorted(SIBLING_SETS[node_type])),
            )
            .order_by(nodes.c.sort_order, nodes.c.name_cf, nodes.c.id)
        )
    )


def next_sort_order(conn: Connection, node_type: str, parent_id: str) -> int:
    """Append at the end: one more than the largest order among the siblings."""
    if node_type == enums.TASK:
        return 0
    top = conn.execute(
        select(func.max(nodes.c.sort_order)).where(
            nodes.c.parent_id == parent_id,
            nodes.c.node_type.in_(sorted(SIBLING_SETS[node_type])),
        )
    ).scalar()
    return 0 if top is None else int(top) + 1


def check_sorted_siblings(
    conn: Connection, node_type: str, parent_id: str, node_id: str | None, given: list[str]
) -> list[tuple[str, str]]:
    """Errors for ``sortedSiblingIds`` entries that are not siblings (or repeat)."""
    known = {r.id for r in _siblings(conn, node_type, parent_id)}
    errors: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, sid in enumerate(given):
        if sid in seen:
            errors.append((f"sortedSiblingIds[{i}]", "appears more than once"))
        elif sid != node_id and sid not in known:
            errors.append((f"sortedSiblingIds[{i}]", f"not a sibling of the node ({sid})"))
        seen.add(sid)
    return errors


def apply_sorted_siblings(
    conn: Connection,
    node_type: str,
    parent_id: str,
    node_id: str,
    given: list[str],
    sort_order: int | None,
    ts: int,
    actor: Actor,
) -> None:
    """Renumber the sibling set 0…n−1 in the order given (the node placed as the rules say)."""
    order = list(given)
    if node_id not in order:
        position = len(order) if sort_order is None else min(sort_order, len(order))
        order.insert(position, node_id)
    current = _siblings(conn, node_type, parent_id)
    named = set(order)
    order += [r.id for r in current if r.id not in named]
    before = {r.id: r.sort_order for r in current}
    for index, sid in enumerate(order):
        if before.get(sid) != index:
            values: dict[str, Any] = {"sort_order": index}
            if sid != node_id:
                values["last_changed"] = ts
            update_where(conn, actor, nodes, nodes.c.id == sid, values)


# -- archive and delete ----------------------------------------------------------------------


def set_archived(
    conn: Connection, node: Row[Any], archive: bool, user: str, ts: int, actor: Actor
) -> None:
    """Archive or unarchive the node and all its descendants (ancestors are not touched)."""
    if archive and node.root_key == ROOT_KEY:
        raise conflict("root_folder", "the root project folder cannot be archived")
    update_where(
        conn,
        actor,
        nodes,
        and_(nodes.c.id.in_(subtree_ids(node.id)), nodes.c.is_archived.is_not(archive)),
        {
            "is_archived": archive,
            "last_changed": ts,
            "last_changed_on": ts,
            "last_changed_by": user,
        },
    )


def delete_subtree(conn: Connection, node: Row[Any], actor: Actor) -> None:
    """Delete the node and everything below it, unless money data hangs in the subtree."""
    if node.root_key == ROOT_KEY:
        raise conflict("root_folder", "the root project folder cannot be deleted")
    below = subtree_ids(node.id)
    booked = conn.execute(
        select(func.count()).where(
            (time_records.c.reference_node_id.in_(below))
            | (time_records.c.work_package_id.in_(below))
        )
    ).scalar_one()
    if booked:
        raise conflict(
            "in_use",
            f"cannot delete: {booked} time tracking records are booked in this subtree; "
            "delete them first or archive the node",
        )
    billed = (
        conn.execute(
            select(func.count()).where(billing_work_packages.c.work_package_id.in_(below))
        ).scalar_one()
        + conn.execute(select(func.count()).where(billings.c.project_id.in_(below))).scalar_one()
    )
    if billed:
        raise conflict(
            "in_use",
            "cannot delete: billings refer to this subtree; archive the node instead",
        )
    # The parent foreign key cascades: core's delete path removes (and logs) the subtree, the
    # rows hanging on its nodes (labels, planning, ancestry...) included.
    delete_where(conn, actor, nodes, nodes.c.id == node.id)


def exists_any_node(conn: Connection, node_id: str) -> bool:
    return conn.execute(select(nodes.c.id).where(nodes.c.id == node_id)).first() is not None


def locked_ancestor(conn: Connection, node_id: str) -> Any:
    """The nearest node at or above ``node_id`` that is locked for time tracking."""
    return conn.execute(
        select(nodes.c.id, nodes.c.name, nodes.c.node_type)
        .join(ancestry, ancestry.c.ancestor_id == nodes.c.id)
        .where(and_(ancestry.c.descendant_id == node_id, nodes.c.is_locked.is_(True)))
        .order_by(ancestry.c.depth)
        .limit(1)
    ).first()


def require(row: Row[Any] | None, what: str) -> Row[Any]:
    if row is None:
        raise FlowError(404, "not_found", f"{what} not found")
    return row
