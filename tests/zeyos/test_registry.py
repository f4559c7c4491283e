"""The entity registry holds the facts of the vendor contract plus officina's decisions."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from officina.core import schema as core_schema
from officina.zeyos.registry import CANONICAL_ENTITY_NAMES, ENTITIES, VENDOR_ENTITIES, get
from officina.zeyos.registry.model import Default, Kind, OnDelete, Op, Owner
from officina.zeyos.tables import TABLES

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "zeyos"
API_JSON = REFERENCE / "api.json"
CATALOG_PY = ROOT / "src" / "officina" / "zeyos" / "registry" / "catalog.py"
needs_reference = pytest.mark.skipif(
    not (API_JSON.exists() and (REFERENCE / "dbref.json").exists()),
    reason="vendor reference files absent",
)

# §3.5 of the records-face guide.
HIDDEN = {
    "applications": {
        "secret",
        "settings",
        "defaultsettings",
        "settingscodebinfile",
        "usersettingscodebinfile",
    },
    "components": {"order"},
    "customfields": {"pattern"},
    "davservers": {"password"},
    "feedservers": {"password"},
    "forks": {"description", "settings"},
    "groups": {"description"},
    "links": {"password_encrypted", "otpsecret"},
    "mailservers": {"passwordin", "passwordout"},
    "resources": {"binfile"},
    "services": {"binfile", "url", "accesskey"},
    "users": {
        "password",
        "resetlogintoken",
        "persistentlogintoken",
        "signature",
        "description",
        "otpsecret",
        "settings",
    },
    "weblets": {"binfile", "url"},
}
# Hidden in the vendor API, shown read-only by officina (open question 16).
EXPOSED = {"messages": ["messageid"]}

READ_ONLY = {
    "applicationassets",
    "applications",
    "customfields",
    "forks",
    "groups",
    "groups2users",
    "permissions",
    "resources",
    "services",
    "users",
    "weblets",
}


def _field(entity: str, name: str) -> Any:
    f = ENTITIES[entity].field(name)
    assert f is not None, f"{entity}.{name}"
    return f


VENDOR = {name: ENTITIES[name] for name in sorted(VENDOR_ENTITIES)}


def test_catalogue_size_and_operations() -> None:
    assert len(VENDOR_ENTITIES) == 64
    # seed-only modules (guide §3.7) come on top of the vendor contract
    assert all(name.startswith("carat_") for name in set(ENTITIES) - VENDOR_ENTITIES)
    counts = {op: sum(op in e.ops for e in VENDOR.values()) for op in Op}
    assert counts == {
        Op.LIST: 64,
        Op.CREATE: 52,
        Op.GET: 63,
        Op.HEAD: 63,
        Op.UPDATE: 52,
        Op.DELETE: 52,
    }
    # plus GET /config and GET /settings
    assert sum(counts.values()) + 2 == 348
    assert ENTITIES["binfiles"].ops == frozenset({Op.LIST})
    read_only = {n for n, e in VENDOR.items() if e.ops == frozenset({Op.LIST, Op.GET, Op.HEAD})}
    assert read_only == READ_ONLY
    assert get("accounts") is ENTITIES["accounts"]
    assert get("nonexistent") is None


def test_field_counts_of_the_first_entities() -> None:
    sizes = {
        "accounts": 19,
        "contacts": 32,
        "addresses": 8,
        "users": 11,
        "groups": 7,
        "groups2users": 7,
    }
    for name, size in sizes.items():
        assert len(ENTITIES[name].fields) == size, name


@needs_reference
def test_field_lists_follow_the_vendor_schema() -> None:
    api = json.loads(API_JSON.read_text(encoding="utf-8"))
    schemas = api["components"]["schemas"]
    for name, entity in VENDOR.items():
        vendor = [c for c in schemas[name]["properties"] if c not in HIDDEN.get(name, ())]
        expected = vendor + EXPOSED.get(name, [])
        assert [f.name for f in entity.fields] == expected, name


def test_no_hidden_column_is_exposed() -> None:
    for name, hidden in HIDDEN.items():
        exposed = {f.name for f in ENTITIES[name].fields}
        assert not exposed & hidden, name
    messageid = _field("messages", "messageid")
    assert messageid.readonly and messageid.kind == Kind.TEXT


def test_first_entities_carry_the_contract_facts() -> None:
    currency = _field("accounts", "currency")
    assert currency.required and currency.pattern == "^[A-Z]{3}$"
    assert currency.kind == Kind.VARCHAR and currency.max_length == 3
    contact = _field("accounts", "contact")
    assert contact.ref == "contacts" and contact.on_delete == OnDelete.SET_NULL
    for ref, target in (("account", "accounts"), ("contact", "contacts")):
        f = _field("addresses", ref)
        assert f.required and f.ref == target and f.on_delete == OnDelete.CASCADE
    assert ENTITIES["addresses"].depends_on == ("account",)
    assert ENTITIES["addresses"].pk_kind == Kind.BIGINT
    assert ENTITIES["accounts"].owner == Owner.GROUP
    assert ENTITIES["contacts"].owner == Owner.USER_GROUP
    assert ENTITIES["addresses"].owner == Owner.NONE
    assert ENTITIES["groups2users"].read_perms == ("admin",)
    assert ENTITIES["accounts"].read_perms == ENTITIES["accounts"].write_perms == ("accounts",)
    assert ENTITIES["accounts"].searchable == (
        "lastname",
        "firstname",
        "customernum",
        "suppliernum",
    )
    assert _field("accounts", "lastname").multiline is False
    assert _field("accounts", "description").multiline is True
    assert _field("accounts", "type").choices == (0, 1, 2, 3, 4, 5)
    picture = _field("contacts", "picbinfile")
    assert picture.kind == Kind.BINFILE and picture.readonly and picture.ref == "binfiles"
    assert picture.on_delete == OnDelete.NONE


def test_common_columns() -> None:
    for entity in VENDOR.values():
        ident = _field(entity.name, "ID")
        assert ident.kind == entity.pk_kind and not ident.nullable
        creator = entity.field("creator")
        if creator is not None:
            assert creator.ref == "users" and creator.default == Default.CALLER
        for stamp in ("creationdate", "lastmodified"):
            f = entity.field(stamp)
            if f is not None:
                assert f.kind == Kind.BIGINT and f.default == Default.NOW and not f.required
        for state in ("visibility", "activity"):
            f = entity.field(state)
            if f is not None:
                assert f.choices == (0, 1, 2) and f.default == 0
    assert not ENTITIES["binfiles"].has_lastmodified
    assert _field("binfiles", "hash").kind == Kind.HASH
    assert ENTITIES["applicationassets"].pk_kind == Kind.INT  # the API says int32
    # Only follows, likes and messagereads have a real creator foreign key.
    real = {
        n
        for n, e in VENDOR.items()
        if (c := e.field("creator")) is not None and c.on_delete == OnDelete.CASCADE
    }
    assert real == {"follows", "likes", "messagereads"}


def test_extension_storage_counts() -> None:
    assert sum(e.extdata for e in VENDOR.values()) == 40
    assert sum(e.tags for e in VENDOR.values()) == 37
    # advertised by the vendor API but without storage (note ²)
    assert not ENTITIES["applicationassets"].extdata and not ENTITIES["applicationassets"].tags
    assert not ENTITIES["records"].tags
    # stored but not advertised (note ¹)
    for name in ("channels", "customfields"):
        assert ENTITIES[name].extdata and ENTITIES[name].tags
    for name in ("couponcodes", "participants", "stocktransactions"):
        assert ENTITIES[name].extdata and not ENTITIES[name].tags


def test_references_point_at_entities() -> None:
    for entity in ENTITIES.values():
        for f in entity.fields:
            if f.ref is not None:
                assert f.ref in ENTITIES, (entity.name, f.name)
            if f.on_delete != OnDelete.NONE:
                assert f.ref is not None and f.kind != Kind.BINFILE, (entity.name, f.name)
            if f.kind == Kind.BINFILE:
                assert f.ref == "binfiles" and f.readonly, (entity.name, f.name)
        for ref in entity.depends_on:
            assert _field(entity.name, ref).ref is not None, (entity.name, ref)
        groups = entity.exclusive + entity.exactly_one + (entity.searchable,)
        for column in (c for group in groups for c in group):
            assert entity.field(column) is not None, (entity.name, column)
    assert len(CANONICAL_ENTITY_NAMES) == 35 and isinstance(CANONICAL_ENTITY_NAMES, tuple)
    assert {"accounts", "weblets"} <= set(CANONICAL_ENTITY_NAMES)
    assert "records" not in CANONICAL_ENTITY_NAMES
    assert set(CANONICAL_ENTITY_NAMES) <= set(ENTITIES)
    assert "records" in _field("follows", "entity").choices


def test_access_and_dependencies() -> None:
    assert ENTITIES["participants"].depends_on == ("mailinglist", "campaign")
    assert ENTITIES["participants"].depends_mode == "or"
    assert ENTITIES["prices"].depends_on == ("item", "pricelist")
    assert ENTITIES["prices"].depends_mode == "and"
    assert ENTITIES["prices"].read_perms == ("inventory", "pricelists")
    creator_bound = {n for n, e in VENDOR.items() if e.creator_bound}
    assert creator_bound == {"comments", "follows", "likes", "messagereads", "records"}
    assert ENTITIES["messagereads"].write_perms == ("messages",)
    assert all(e.write_needs_writable for e in VENDOR.values())
    assert ENTITIES["devices"].write_perms == ("inventory",)
    assert ENTITIES["documents"].write_perms == ("documents",)
    for name in ("applications", "applicationassets", "resources", "services", "weblets"):
        assert ENTITIES[name].read_perms == ("dev",), name
    for name in ("associations", "binfiles", "users", "records", "objects"):
        assert ENTITIES[name].read_perms == (), name
    assert ENTITIES["transactions"].extra["type_perms"] == {
        "billing": (0, 1, 2, 3, 4),
        "procurement": (5, 6, 7, 8, 9),
        "production": (10, 11),
    }
    core = {n for n, e in VENDOR.items() if e.core_table}
    assert core == {"users", "groups", "groups2users", "permissions", "applications"}


def test_required_fields_and_cross_field_rules() -> None:
    required = {
        n: tuple(f.name for f in e.fields if f.required)
        for n, e in VENDOR.items()
        if Op.CREATE in e.ops
    }
    assert required["accounts"] == ("currency",)
    assert required["campaigns"] == ("name",)
    assert required["events"] == ("entity", "index", "name", "datefrom", "dateto")
    assert required["transactions"] == ("transactionnum", "currency")
    assert required["contacts"] == ()
    for name, columns in required.items():
        for column in columns:
            f = _field(name, column)
            assert f.default is None and not f.nullable, (name, column)
    datefrom = _field("campaigns", "datefrom")
    assert datefrom.default == Default.NOW and not datefrom.required
    assert ENTITIES["tickets"].exclusive == (("account", "project"),)
    assert ENTITIES["permissions"].exactly_one == (("fork", "application", "identifier"),)
    assert ENTITIES["devices"].exactly_one == (("serialnum", "chargenum"),)


def test_enums_and_ranges() -> None:
    for name in ("contracts", "tickets", "transactions"):
        calculation = _field(name, "calculation")
        assert calculation.kind == Kind.SMALLINT and calculation.default == 0
        assert calculation.choices == (0, 1, 2, 3, 4)
    # the database domain wins where the vendor API enum disagrees
    assert _field("documents", "status").choices == tuple(range(6))
    assert _field("notes", "status").choices == tuple(range(6))
    assert _field("records", "flag").choices == tuple(range(5))
    assert _field("appointments", "recurrence").choices == tuple(range(5))
    assert _field("appointments", "recurrence").nullable
    assert _field("transactions", "status").choices == tuple(range(24))
    assert "" in _field("customfields", "type").choices
    discount = _field("prices", "discount")
    assert (discount.minimum, discount.maximum) == (-100, 100)
    assert (_field("coupons", "taxrate").minimum, _field("coupons", "taxrate").maximum) == (0, 100)
    probability = _field("opportunities", "probability")
    assert (probability.minimum, probability.maximum) == (0, 100)
    interval = _field("appointments", "interval")
    assert (interval.minimum, interval.maximum) == (1, 32767)
    assert (_field("services", "interval").minimum, _field("services", "interval").maximum) == (
        1,
        1440,
    )
    assert _field("binfiles", "size").minimum == 1
    assert _field("contacts", "country").pattern == "^([A-Z]{2})?$"
    assert _field("files", "mimetype").pattern == "^[a-z]+/[^ \\t\\v\\r\\n]+$"
    assert _field("files", "mimetype").default == "application/octet-stream"


def test_search_columns() -> None:
    assert ENTITIES["stocktransactions"].searchable == ("chargenum", "reference", "serials")
    assert ENTITIES["comments"].searchable == ("sender", "text")
    assert ENTITIES["addresses"].searchable == ()
    for entity in VENDOR.values():
        for column in entity.searchable:
            assert _field(entity.name, column).indexed, (entity.name, column)


def test_tables_carry_every_api_column() -> None:
    for entity in ENTITIES.values():
        table = TABLES[entity.name]
        columns = set(table.c.keys())
        missing = {f.name for f in entity.fields} - columns
        assert not missing, (entity.name, missing)
        assert "_rev" in columns
        if entity.core_table:
            assert table is core_schema.metadata.tables[entity.name]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_registry", ROOT / "tools" / "gen_registry.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module executes
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@needs_reference
def test_generated_catalogue_is_up_to_date() -> None:
    generated = _generator().generate(REFERENCE)
    assert generated == CATALOG_PY.read_text(encoding="utf-8")
    compile(generated, str(CATALOG_PY), "exec")


@needs_reference
def test_generator_check_mode(tmp_path: Path) -> None:
    module = _generator()
    assert module.main([str(REFERENCE), "--check"]) == 0
    stale = tmp_path / "catalog.py"
    stale.write_text("# stale\n", encoding="utf-8")
    assert module.main([str(REFERENCE), "--check", "--output", str(stale)]) == 1
    assert module.main([str(REFERENCE), "--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == CATALOG_PY.read_text(encoding="utf-8")


def test_generated_module_has_no_vendor_prose() -> None:
    text = CATALOG_PY.read_text(encoding="utf-8")
    assert "description=" not in text
    assert text.startswith("# Generated by tools/gen_registry.py")


def test_field_constraints_are_well_formed() -> None:
    for entity in ENTITIES.values():
        for f in entity.fields:
            where = (entity.name, f.name)
            if f.pattern is not None:
                assert f.kind in (Kind.TEXT, Kind.VARCHAR), where
                re.compile(f.pattern)
            if f.max_length is not None:
                assert f.kind == Kind.VARCHAR, where
            if f.choices is not None:
                wanted = int if f.kind == Kind.SMALLINT else str
                assert all(type(c) is wanted for c in f.choices), where
                assert f.kind in (Kind.SMALLINT, Kind.TEXT, Kind.ENTITY), where
            if f.minimum is not None and f.maximum is not None:
                assert f.minimum <= f.maximum, where
            if f.required:
                assert f.default is None and not f.nullable, where
            if f.multiline:
                assert f.kind in (Kind.TEXT, Kind.VARCHAR), where
