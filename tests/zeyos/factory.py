"""Builds a valid record of any entity, creating whatever it depends on first.

Writable entities are created through the API (so the factory itself exercises validation);
read-only ones are inserted directly into the store, as an administrator's tools would.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import insert, select

from officina.core.clock import now
from officina.core.schema import groups
from officina.zeyos.registry import ENTITIES
from officina.zeyos.registry.model import Entity, Field, Kind, Op
from officina.zeyos.tables import table
from tests.zeyos.helpers import API

_seq = itertools.count(1)

PATTERN_VALUES = {
    "^[A-Z]{3}$": "EUR",
    "^([A-Z]{2})?$": "DE",
    "^([A-F0-9]{3}){0,2}$": "FFF",
    "^[a-z]+/[^ \\t\\v\\r\\n]+$": "text/plain",
}
JSON_VALUES = {
    "items": [],
    "contractitems": [],
    "billingitems": [],
    "procurementitems": [],
    "autobilling": {"interval": 1},
    "ticketing": {"enabled": 1},
}


class Factory:
    def __init__(self, env: Any, client: Any) -> None:
        self.env = env
        self.client = client
        self.made: dict[str, int] = {}

    def admin_group(self) -> int:
        with self.env.store.read() as conn:
            return int(
                conn.execute(
                    select(groups.c.ID).where(groups.c.name == "Administrators")
                ).scalar_one()
            )

    def value(self, entity: Entity, f: Field, used: set[str] | None = None) -> Any:
        n = next(_seq)
        if f.ref is not None:
            # Two references to the same entity in one row (item/component) get two rows.
            if used is not None and f.ref in used and f.ref not in ("users", "groups"):
                return self.new(f.ref)
            if used is not None:
                used.add(f.ref)
            return self.id_of(f.ref)
        if f.kind == Kind.ENTITY:
            return "accounts"
        if f.name in ("index", "index1", "index2"):
            return self.id_of("accounts")
        if f.choices:
            return f.choices[0]
        if f.kind in (Kind.INT, Kind.BIGINT, Kind.SMALLINT):
            if f.name == "dateto":
                return 2_000_000_000
            if f.name == "datefrom":
                return 1_000_000_000
            return int(f.minimum) + 1 if f.minimum is not None else 1
        if f.kind == Kind.FLOAT:
            return 1.5
        if f.kind == Kind.JSON:
            return JSON_VALUES.get(f.name, {})
        if f.pattern in PATTERN_VALUES:
            return PATTERN_VALUES[f.pattern]
        if f.pattern:
            return f"v{n}"
        if f.name == "module":
            return "accounts"
        return f"{f.name} {n}"

    def body(self, name: str) -> dict[str, Any]:
        entity = ENTITIES[name]
        body: dict[str, Any] = {}
        used: set[str] = set()
        for f in entity.fields:
            if f.required:
                body[f.name] = self.value(entity, f, used)
        for group in entity.exactly_one:
            first = entity.field(group[0])
            assert first is not None
            body[group[0]] = self.value(entity, first)
        if name in ("accounts", "contacts") and not body.get("lastname"):
            body["lastname"] = f"Name {next(_seq)}"
        if not body:
            free = next(f for f in entity.fields if f.kind == Kind.TEXT and not f.pattern)
            body[free.name] = f"{free.name} {next(_seq)}"
        return body

    def id_of(self, name: str) -> int:
        """The ID of a (shared) row of ``name``, made on first request."""
        if name == "users":
            return int(self.env.admin.user_id)
        if name == "groups":
            return self.admin_group()
        if name not in self.made:
            self.made[name] = self.new(name)
        return self.made[name]

    def new(self, name: str) -> int:
        entity = ENTITIES[name]
        if Op.CREATE in entity.ops:
            response = self.client.put(f"{API}/{name}", json=self.body(name))
            assert response.status_code == 201, (name, response.status_code, response.text)
            return int(response.json()["ID"])
        return self.insert(entity)

    def insert(self, entity: Entity) -> int:
        values: dict[str, Any] = {}
        ts = now()
        for f in entity.fields:
            if f.name == "ID":
                continue
            if f.name in ("creationdate", "lastmodified"):
                values[f.name] = ts
            elif f.required:
                values[f.name] = self.value(entity, f)
        t = table(entity.name)
        if entity.name == "binfiles":
            values.update(size=3, hash=bytes(range(16)), content=b"abc")
        if entity.name == "groups2users":
            values["group"] = self.env.group()
        if entity.name == "permissions":
            values["identifier"] = "notes"
        if entity.name == "users":
            values.update(
                uuid=f"{next(_seq):032X}",
                name_ci=values["name"].lower(),
                email_ci=values["email"].lower(),
            )
        if entity.name == "groups":
            values.update(uuid=f"{next(_seq):032X}", name_ci=values["name"].lower())
        with self.env.store.write() as conn:
            return int(conn.execute(insert(t).values(**values).returning(t.c.ID)).scalar_one())
