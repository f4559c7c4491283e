"""Who may see and change which rows of the records face.

Visibility is a SQL predicate composed into every statement (lists, joins, single reads), so a
row the caller may not see behaves exactly like a row that does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from officina.core import rights
from officina.core.auth import Principal
from officina.core.errors import forbidden
from officina.zeyos.registry import ENTITIES
from officina.zeyos.registry.model import Entity, Owner
from officina.zeyos.tables import table


def visibility_key(p: Principal) -> tuple[Any, ...]:
    """What of a caller the visibility predicates below depend on, the module permissions
    that decide which joins reach a row among them: statements built for one caller may be
    reused for every caller with the same key."""
    if p.is_admin:
        return ("admin",)
    return (p.user_id, p.nopublic, tuple(sorted(p.groups.items())), tuple(sorted(p.perms.items())))


def _owner_clause(entity: Entity, t: Any, p: Principal) -> ColumnElement[bool] | None:
    if entity.owner == Owner.NONE:
        return None
    return rights.owner_clause(t, p, user_owned=entity.owner == Owner.USER_GROUP)


# Participants belong to a mailing list or a campaign; each kind needs its own module.
PARTICIPANT_PERMS = (("mailinglist", "mailinglists"), ("campaign", "campaigns"))


def _row_permission(entity: Entity, t: Any, p: Principal) -> ColumnElement[bool] | None:
    """Rows whose module depends on the row itself (transaction type, participant parent)."""
    if p.is_admin:
        return None
    type_perms = entity.extra.get("type_perms")
    if type_perms:
        allowed = [kind for perm, kinds in type_perms.items() if perm in p.perms for kind in kinds]
        return t.c.type.in_(allowed) if allowed else false()
    if entity.name == "participants":
        terms = [t.c[ref].is_not(None) for ref, perm in PARTICIPANT_PERMS if perm in p.perms]
        return or_(*terms) if terms else false()
    return None


def check_row_permission(entity: Entity, row: dict[str, Any], p: Principal) -> None:
    """Writing a row needs the writable permission its own content selects."""
    if p.is_admin:
        return
    type_perms = entity.extra.get("type_perms")
    if type_perms:
        kind = row.get("type")
        needed = [perm for perm, kinds in type_perms.items() if kind in kinds]
        if not any(p.perms.get(perm, False) for perm in needed):
            raise forbidden()
    if entity.name == "participants":
        for ref, perm in PARTICIPANT_PERMS:
            if row.get(ref) is not None and not p.perms.get(perm, False):
                raise forbidden()


def visibility(entity: Entity, t: Any, p: Principal, depth: int = 0) -> ColumnElement[bool] | None:
    """Predicate on alias ``t`` of ``entity``'s table: rows ``p`` may see (None = all)."""
    terms: list[ColumnElement[bool]] = []
    by_row = _row_permission(entity, t, p)
    if by_row is not None:
        terms.append(by_row)
    if entity.field("fork") is not None:
        # Module forks are not implemented yet: their rows are nobody's to see.
        terms.append(t.c.fork.is_(None))
    owner = _owner_clause(entity, t, p)
    if owner is not None:
        terms.append(owner)
    if entity.depends_on and depth < 3:
        parent_terms = []
        for ref in entity.depends_on:
            ref_field = entity.field(ref)
            if ref_field is None or ref_field.ref is None:
                continue
            parent = ENTITIES[ref_field.ref]
            parent_alias = table(parent.name).alias(f"dep{depth}_{ref}")
            inner = visibility(parent, parent_alias, p, depth + 1)
            if inner is None:
                continue
            seen = exists(select(parent_alias.c.ID).where(parent_alias.c.ID == t.c[ref], inner))
            if entity.depends_mode == "or":
                parent_terms.append(and_(t.c[ref].is_not(None), seen))
            else:
                parent_terms.append(seen)
        if parent_terms:
            terms.append(or_(*parent_terms) if entity.depends_mode == "or" else and_(*parent_terms))
    if not terms:
        return None
    return and_(*terms) if len(terms) > 1 else terms[0]


def reachable(entity: Entity, t: Any, p: Principal) -> ColumnElement[bool] | None:
    """Rows of ``entity`` a caller may reach through a reference of another row (a join, a
    field path, a reference in a body): the module permission and the row's visibility.

    A join to a module the caller may not read matches no row, so every field through it
    reads null, and filters and sort keys on it behave as on null: the answer is the one a
    missing row gives, which tells nothing about the hidden row (a 403 for naming the field
    would instead confirm what the reference points at)."""
    if not p.may_read(entity.read_perms):
        return false()
    return visibility(entity, t, p)


def where_visible(entity: Entity, t: Any, p: Principal) -> ColumnElement[bool]:
    clause = visibility(entity, t, p)
    return true() if clause is None else clause


def require_read(entity: Entity, p: Principal) -> None:
    if not p.may_read(entity.read_perms):
        raise forbidden()


def require_write(entity: Entity, p: Principal) -> None:
    if not p.may_write(entity.write_perms, entity.write_needs_writable):
        raise forbidden()


def may_write_row(entity: Entity, row: Any, p: Principal) -> bool:
    """Ownership rule for changing an existing (visible) row."""
    if entity.creator_bound and not p.is_admin and row.creator != p.user_id:
        return False
    if entity.owner == Owner.NONE:
        return True
    owneruser = getattr(row, "owneruser", None) if entity.owner == Owner.USER_GROUP else None
    return rights.may_change_owned(p, row.ownergroup, owneruser)


def check_new_owner(entity: Entity, values: dict[str, Any], p: Principal) -> None:
    """Owners a caller may assign: a group they write for, or themselves."""
    if p.is_admin or entity.owner == Owner.NONE:
        return
    group = values.get("ownergroup")
    if group is not None and not p.group_writable(group):
        raise forbidden()
    user = values.get("owneruser")
    if user is not None and user != p.user_id:
        raise forbidden()
