"""Cross-field rules checked on the row a write would produce (after merging a PATCH).

They mirror the vendor database's check constraints; a violation is a 400 naming a field,
found before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from officina.core.errors import bad_request
from officina.zeyos.registry.model import Entity
from officina.zeyos.values import invalid_value

Rule = Callable[[dict[str, Any]], None]


def _names_required(row: dict[str, Any]) -> None:
    if not (row.get("lastname") or row.get("firstname")):
        raise bad_request("Missing field 'lastname'", field="lastname")


def _account_numbers(row: dict[str, Any]) -> None:
    kind = row.get("type", 0)
    if row.get("customernum") and kind not in (0, 1, 3, 5):
        raise invalid_value("customernum", "only customer accounts have a customer number")
    if row.get("suppliernum") and kind not in (2, 3, 5):
        raise invalid_value("suppliernum", "only supplier accounts have a supplier number")


def _person_only(row: dict[str, Any]) -> None:
    if row.get("type", 0) == 1:
        return
    for name in ("title", "company", "position", "department"):
        if row.get(name):
            raise invalid_value(name, "only a person (type 1) has this field")
    if row.get("birthdate") is not None:
        raise invalid_value("birthdate", "only a person (type 1) has a birth date")


def _dates_ordered(row: dict[str, Any]) -> None:
    start, end = row.get("datefrom"), row.get("dateto")
    if start is not None and end is not None and start > end:
        raise invalid_value("dateto", "the end may not lie before the start")


def _accepted_needs_certainty(row: dict[str, Any]) -> None:
    if row.get("status") == 5 and row.get("probability") != 100:
        raise invalid_value("probability", "an accepted opportunity has probability 100")


def _differs(a: str, b: str) -> Rule:
    def rule(row: dict[str, Any]) -> None:
        if row.get(a) is not None and row.get(a) == row.get(b):
            raise invalid_value(a, f"may not be the same as '{b}'")

    return rule


def _model_items(row: dict[str, Any]) -> None:
    if row.get("type") == 7 and row.get("model") is not None:
        raise invalid_value("model", "a model item (type 7) has no model of its own")


def _message_rules(row: dict[str, Any]) -> None:
    if row.get("senderror") and row.get("senddate") is None:
        raise invalid_value("senderror", "a send error needs a send date")


# Entities a records row may not point at (their rows are too fine-grained to annotate).
_UNRECORDABLE = {"couponcodes", "participants", "records", "stocktransactions"}


def _record_rules(row: dict[str, Any]) -> None:
    if row.get("assigneduser") is not None and row.get("assigneduser") == row.get("creator"):
        raise invalid_value("assigneduser", "a record is not assigned to its own creator")
    entity, index = row.get("entity"), row.get("index")
    if (entity is None) != (index is None):
        raise invalid_value("index", "'entity' and 'index' are set together or not at all")
    if entity in _UNRECORDABLE:
        raise invalid_value("entity", "records cannot be attached to this entity")
    if entity is None and row.get("flag", 0) not in (0, 4):
        raise invalid_value("flag", "a record without an entity has flag 0 or 4")


def _stock_rules(row: dict[str, Any]) -> None:
    amount = row.get("amount")
    if amount is not None and amount == 0:
        raise invalid_value("amount", "a stock transaction moves a non-zero amount")
    if row.get("transfer") is not None:
        if amount is not None and amount <= 0:
            raise invalid_value("amount", "the receiving side of a transfer is positive")
        if row.get("transfer") == row.get("ID"):
            raise invalid_value("transfer", "a transfer cannot point at itself")


# Transaction types 10 and 11 are production (fabrication, disassembly): they make or take
# apart an item and have no account; the contract requires their production factor and
# forbids it on every other type.
_PRODUCTION = (10, 11)


def _transaction_rules(row: dict[str, Any]) -> None:
    kind = row.get("type", 0)
    factor = row.get("productionfactor")
    if kind in _PRODUCTION:
        if row.get("account") is not None:
            raise invalid_value("account", "a production transaction has no account")
        if factor is None:
            raise invalid_value(
                "productionfactor", "a production transaction requires a production factor"
            )
        if factor <= 0:
            raise invalid_value("productionfactor", "the production factor is positive")
    else:
        if factor is not None:
            raise invalid_value(
                "productionfactor", "only production transactions have a production factor"
            )
        if row.get("item") is not None:
            raise invalid_value("item", "only production transactions name an item")


def _coupon_rules(row: dict[str, Any]) -> None:
    # Type 0 is a promotion with one shared code; type 1 hands out individual codes
    # (couponcodes), so a code on the coupon itself would never be used.
    if row.get("type", 0) != 0 and row.get("code"):
        raise invalid_value("code", "only a promotion coupon (type 0) has a code")


ENTITY_RULES: dict[str, list[Rule]] = {
    "accounts": [_names_required, _account_numbers],
    "contacts": [_names_required, _person_only],
    "opportunities": [_accepted_needs_certainty],
    "items": [_model_items],
    "components": [_differs("component", "item")],
    "relateditems": [_differs("relateditem", "item")],
    "messages": [_differs("reference", "ID"), _message_rules],
    "records": [_record_rules],
    "stocktransactions": [_stock_rules],
    "transactions": [_transaction_rules],
    "coupons": [_coupon_rules],
}


def _listed(names: tuple[str, ...]) -> str:
    quoted = [f"'{n}'" for n in names]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1] if len(quoted) > 1 else quoted[0]


def check(entity: Entity, row: dict[str, Any]) -> None:
    """Raise 400 if ``row`` (all columns after the write) breaks a rule of ``entity``."""
    if row.get("owneruser") is not None and row.get("ownergroup") is not None:
        raise invalid_value("ownergroup", "a row is owned by a user or a group, not both")
    for group in entity.exclusive:
        if sum(row.get(name) not in (None, "") for name in group) > 1:
            raise invalid_value(group[-1], f"{_listed(group)} exclude each other")
    for group in entity.exactly_one:
        if sum(row.get(name) not in (None, "") for name in group) != 1:
            raise invalid_value(group[0], f"exactly one of {_listed(group)} must be set")
    if "datefrom" in row and "dateto" in row:
        _dates_ordered(row)
    for rule in ENTITY_RULES.get(entity.name, ()):
        rule(row)
