"""The calculated ``sums`` of billings: hours and a net amount, computed at read time.

Attached records cannot change, so only prices (categories, surcharges, customer overrides)
can move the amount later. Arithmetic is exact (``Decimal``) and rounded half-up to two
places at the end. A record value is ``hours × rate × (1 + surcharge% / 100)``; the billing
type of each work package decides how its record values add up.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.engine import Connection, Row

from officina.flow.customer_ids import DERIVED
from officina.flow.tables import (
    billing_work_packages,
    customers,
    nodes,
    price_categories,
    price_surcharges,
    time_records,
)
from officina.flow.values import from_cents, to_cents

HOUR = Decimal(3600)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def _money(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return from_cents(int(value.quantize(CENT, rounding=ROUND_HALF_UP) * 100))


def _billing_seconds(r: Row[Any]) -> int:
    if r.billing_start is not None and r.billing_end is not None:
        return int(r.billing_end - r.billing_start)
    if r.work_time_start is not None and r.work_time_end is not None:
        return int(r.work_time_end - r.work_time_start)
    return 0


def _override(overrides: dict[str, Any] | None, key: str | None, prop: str) -> Decimal | None:
    if not overrides or key is None:
        return None
    entry = overrides.get(key)
    if not isinstance(entry, dict) or prop not in entry:
        return None
    try:
        return Decimal(to_cents(entry[prop])) / 100
    except PydanticCustomError:
        return None


class Prices:
    """Rates and surcharges as the billing's customer sees them today."""

    def __init__(
        self, rates: dict[str, Decimal], percentages: dict[str, Decimal], customer: Row[Any] | None
    ) -> None:
        self.rates = rates
        self.percentages = percentages
        self.customer = customer

    @staticmethod
    def tables(conn: Connection) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        rates = {
            r.id: Decimal(r.hourly_rate_c) / 100
            for r in conn.execute(select(price_categories.c.id, price_categories.c.hourly_rate_c))
        }
        percentages = {
            r.id: Decimal(r.percentage_c) / 100
            for r in conn.execute(select(price_surcharges.c.id, price_surcharges.c.percentage_c))
        }
        return rates, percentages

    def value(self, record: Row[Any], package: Row[Any] | None) -> Decimal | None:
        category = record.price_category_id or (package.price_category_id if package else None)
        if category is None:
            return None
        overrides = self.customer.price_category_overrides if self.customer else None
        rate = _override(overrides, category, "hourlyRate")
        if rate is None:
            rate = self.rates.get(category)
        if rate is None:
            return None
        percent = Decimal(0)
        if record.price_surcharge_id is not None:
            s_overrides = self.customer.price_surcharge_overrides if self.customer else None
            found = _override(s_overrides, record.price_surcharge_id, "percentage")
            percent = (
                found
                if found is not None
                else self.percentages.get(record.price_surcharge_id, Decimal(0))
            )
        hours = Decimal(_billing_seconds(record)) / HOUR
        return hours * rate * (1 + percent / HUNDRED)


def _package_amount(
    package: Row[Any], records: list[Row[Any]], prices: Prices, first_billing: bool
) -> Decimal | None:
    kind = package.billing_type
    if kind == "freeOfCharge":
        return Decimal(0)
    if kind == "fixedPrice":
        if not first_billing:
            return Decimal(0)
        return None if package.fixed_price_c is None else Decimal(package.fixed_price_c) / 100
    values = [prices.value(r, package) for r in records]
    if any(v is None for v in values):
        return None
    total = sum((v for v in values if v is not None), Decimal(0))
    cap_c = {"effortCap": package.max_effort_c, "effortFromTo": package.effort_to_c}.get(kind)
    hours = sum((Decimal(_billing_seconds(r)) for r in records), Decimal(0)) / HOUR
    if cap_c is not None and hours > 0:
        cap = Decimal(cap_c) / 100
        if hours > cap:
            total = total * cap / hours
    return total


def _customers(conn: Connection, ids: set[str]) -> dict[str, Row[Any]]:
    """Flow rows of the billings' customers (stored or derived ids)."""
    if not ids:
        return {}
    derived = {int(m.group(1), 16): i for i in ids if (m := DERIVED.match(i))}
    rows = conn.execute(
        select(customers).where(
            or_(customers.c.uuid.in_(sorted(ids)), customers.c.account_id.in_(sorted(derived)))
        )
    ).all()
    out: dict[str, Row[Any]] = {}
    for r in rows:
        out[r.uuid] = r
        if r.account_id in derived:
            out[derived[r.account_id]] = r
    return out


def billed_by(ids: list[str]) -> ColumnElement[bool]:
    """The time records of these billings. ``billing_id`` carries no index, so that marking
    records leaves the indexes alone (migration flow_0002); a billing's records all belong
    to its attached work packages, whose index leads to them."""
    return and_(
        time_records.c.work_package_id.in_(
            select(billing_work_packages.c.work_package_id).where(
                billing_work_packages.c.billing_id.in_(ids)
            )
        ),
        time_records.c.billing_id.in_(ids),
    )


def sums_for(conn: Connection, rows: list[Row[Any]]) -> dict[str, dict[str, Any]]:
    ids = [r.id for r in rows]
    records: dict[str, list[Row[Any]]] = defaultdict(list)
    for rec in conn.execute(select(time_records).where(billed_by(ids))):
        records[rec.billing_id].append(rec)
    attached: dict[str, list[str]] = defaultdict(list)
    # (billing, package) pairs where the billing charges the package's fixed price.
    first: set[tuple[str, str]] = set()
    for link in conn.execute(
        select(billing_work_packages)
        .where(billing_work_packages.c.billing_id.in_(ids))
        .order_by(billing_work_packages.c.position)
    ):
        attached[link.billing_id].append(link.work_package_id)
        if link.charges_fixed_price:
            first.add((link.billing_id, link.work_package_id))
    package_ids = {p for ps in attached.values() for p in ps}
    packages = {
        p.id: p for p in conn.execute(select(nodes).where(nodes.c.id.in_(sorted(package_ids))))
    }
    flows = _customers(conn, {r.customer_id for r in rows if r.customer_id})
    rates, percentages = Prices.tables(conn)
    out = {}
    for row in rows:
        customer = flows.get(row.customer_id) if row.customer_id else None
        prices = Prices(rates, percentages, customer)
        out[row.id] = _sums(row, records[row.id], attached[row.id], packages, first, prices)
    return out


def _sums(
    row: Row[Any],
    records: list[Row[Any]],
    attached: list[str],
    packages: dict[str, Row[Any]],
    first: set[tuple[str, str]],
    prices: Prices,
) -> dict[str, Any]:
    work = [r for r in records if not r.is_journey]
    journeys = [r for r in records if r.is_journey]
    work_seconds = sum(
        int(r.work_time_end - r.work_time_start)
        for r in work
        if r.work_time_start is not None and r.work_time_end is not None
    )
    by_package: dict[str, list[Row[Any]]] = defaultdict(list)
    for r in work:
        by_package[r.work_package_id].append(r)
    amount: Decimal | None = Decimal(0)
    for package_id in dict.fromkeys([*attached, *by_package]):
        package = packages.get(package_id)
        if package is None:
            continue
        is_first = (row.id, package_id) in first
        part = _package_amount(package, by_package.get(package_id, []), prices, is_first)
        amount = None if amount is None or part is None else amount + part
    journey_amount: Decimal | None = Decimal(0)
    if row.journey_billing_mode == "flatRate":
        journey_amount = len(journeys) * Decimal(row.flat_rate_journey_price_c) / 100
    elif row.journey_billing_mode == "effort":
        values = [prices.value(r, packages.get(r.work_package_id)) for r in journeys]
        journey_amount = (
            None
            if any(v is None for v in values)
            else sum((v for v in values if v is not None), Decimal(0))
        )
    customer = prices.customer
    if customer is not None and customer.is_internal and not customer.requires_internal_charge:
        amount, journey_amount = Decimal(0), Decimal(0)
    total = None if amount is None or journey_amount is None else amount + journey_amount
    return {
        "timeRecordCount": len(records),
        "workHours": _money(Decimal(work_seconds) / HOUR),
        "billingHours": _money(sum((_billing_seconds(r) for r in work), 0) / HOUR),
        "journeyCount": len(journeys),
        "journeyHours": _money(sum((_billing_seconds(r) for r in journeys), 0) / HOUR),
        "journeyAmount": _money(journey_amount),
        "amount": _money(total),
    }
