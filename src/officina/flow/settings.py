"""Flow settings of an instance: one flat object with dotted keys, defaults built in.

The seed names ``billingRoundingMinutes`` and ``fileExports.timeSheets.showSignatureField``
and refers to a system journey billing mode and a flat journey price; officina stores them
(plus the default export language) in ``flow_settings``. Only keys that differ from the
default are stored; ``null`` in a PATCH resets a key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.engine import Connection

from officina.core.changes import Actor
from officina.core.logged import delete_where, insert_row, update_where
from officina.flow import enums
from officina.flow.errors import invalid_many
from officina.flow.refs import Errors
from officina.flow.tables import settings as settings_table
from officina.flow.values import to_cents

ROUNDING = "billingRoundingMinutes"
SIGNATURE = "fileExports.timeSheets.showSignatureField"
JOURNEY_MODE = "billing.journeyBillingMode"
JOURNEY_PRICE = "billing.flatRateJourneyPrice"
LANGUAGE = "fileExports.defaultLanguage"

DEFAULTS: dict[str, Any] = {
    ROUNDING: 15,
    SIGNATURE: False,
    JOURNEY_MODE: "flatRate",
    JOURNEY_PRICE: 0,
    LANGUAGE: "en",
}


def _rounding(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1440:
        return "must be an integer from 0 to 1440"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be a boolean"


def _one_of(values: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in values else f"must be one of {', '.join(values)}"

    return check


def _money(value: Any) -> str | None:
    try:
        to_cents(value)
    except PydanticCustomError as exc:
        return exc.message()
    return None


CHECKS: dict[str, Callable[[Any], str | None]] = {
    ROUNDING: _rounding,
    SIGNATURE: _boolean,
    JOURNEY_MODE: _one_of(enums.JOURNEY_BILLING_MODES),
    JOURNEY_PRICE: _money,
    LANGUAGE: _one_of(enums.LANGUAGES),
}


def read(conn: Connection) -> dict[str, Any]:
    values = dict(DEFAULTS)
    for row in conn.execute(select(settings_table.c.key, settings_table.c.value)):
        if row.key in values:
            values[row.key] = row.value
    return values


def patch(conn: Connection, body: dict[str, Any], actor: Actor) -> None:
    """Merge the known keys of ``body``; unknown keys are ignored like unknown properties."""
    errors: Errors = []
    for key, value in body.items():
        if key in CHECKS and value is not None:
            problem = CHECKS[key](value)
            if problem:
                errors.append((key, problem))
    if errors:
        raise invalid_many(errors)
    for key, value in body.items():
        if key not in CHECKS:
            continue
        stored = conn.execute(
            select(settings_table.c.value).where(settings_table.c.key == key)
        ).first()
        wanted = value is not None and value != DEFAULTS[key]
        if stored is not None and not wanted:
            delete_where(conn, actor, settings_table, settings_table.c.key == key)
        elif stored is None and wanted:
            insert_row(conn, actor, settings_table, {"key": key, "value": value})
        elif stored is not None:
            update_where(conn, actor, settings_table, settings_table.c.key == key, {"value": value})
