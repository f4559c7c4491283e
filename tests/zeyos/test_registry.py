"""The entity registry holds the facts of the vendor contract, and the tables agree with it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from officina.core import schema as core_schema
from officina.zeyos.registry import CANONICAL_ENTITY_NAMES, ENTITIES
from officina.zeyos.registry.model import Kind, OnDelete, Op, Owner
from officina.zeyos.tables import TABLES
from tests.conftest import ROOT, SHARED

REFERENCE = SHARED / "reference" / "zeyos"
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


def test_catalogue_size_and_operations():
    assert len(ENTITIES) == 64
    counts = {op: sum(op in e.ops for e in ENTITIES.values()) for op in Op}
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


def test_first_entities_have_the_contract_fields():
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
    accounts = ENTITIES["accounts"]
    currency = accounts.field("currency")
    assert currency is not None and currency.required and currency.pattern == "^[A-Z]{3}$"
    contact = accounts.field("contact")
    assert contact is not None and contact.ref == "contacts"
    assert contact.on_delete == OnDelete.SET_NULL
    for ref in ("account", "contact"):
        f = ENTITIES["addresses"].field(ref)
        assert f is not None and f.required and f.on_delete == OnDelete.CASCADE
    assert ENTITIES["addresses"].depends_on == ("account",)
    assert ENTITIES["addresses"].pk_kind == Kind.BIGINT
    assert ENTITIES["accounts"].owner == Owner.GROUP
    assert ENTITIES["contacts"].owner == Owner.USER_GROUP
    assert ENTITIES["groups2users"].read_perms == ("admin",)
    assert ENTITIES["contacts"].field("picbinfile").kind == Kind.BINFILE  # type: ignore[union-attr]


def test_extension_storage_counts():
    assert sum(e.extdata for e in ENTITIES.values()) == 40
    assert sum(e.tags for e in ENTITIES.values()) == 37


def test_no_hidden_column_is_exposed():
    for name, hidden in HIDDEN.items():
        exposed = {f.name for f in ENTITIES[name].fields}
        assert not exposed & hidden, name
    messageid = ENTITIES["messages"].field("messageid")
    assert messageid is not None and messageid.readonly


def test_references_point_at_entities():
    for entity in ENTITIES.values():
        for f in entity.fields:
            if f.ref is not None:
                assert f.ref in ENTITIES, (entity.name, f.name)
        for ref in entity.depends_on:
            assert entity.field(ref) is not None, (entity.name, ref)
    assert "accounts" in CANONICAL_ENTITY_NAMES and len(CANONICAL_ENTITY_NAMES) == 35


def test_tables_carry_every_api_column():
    for entity in ENTITIES.values():
        table = TABLES[entity.name]
        columns = set(table.c.keys())
        missing = {f.name for f in entity.fields} - columns
        assert not missing, (entity.name, missing)
        assert "_rev" in columns
        if entity.core_table:
            assert table is core_schema.metadata.tables[entity.name]


@pytest.mark.skipif(not (REFERENCE / "api.json").exists(), reason="vendor reference absent")
def test_field_lists_match_the_vendor_schema():
    api = json.loads((REFERENCE / "api.json").read_text())
    for name, entity in ENTITIES.items():
        expected = list(api["components"]["schemas"][name]["properties"])
        ours = [f.name for f in entity.fields]
        if name == "messages":
            ours.remove("messageid")
        assert ours == expected, name


@pytest.mark.skipif(not (REFERENCE / "api.json").exists(), reason="vendor reference absent")
def test_generated_catalogue_is_up_to_date(tmp_path: Path):
    script = ROOT / "tools" / "gen_registry.py"
    spec = importlib.util.spec_from_file_location("gen_registry", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.TARGET = tmp_path / "catalog.py"
    assert module.main(["gen", str(REFERENCE)]) == 0
    committed = (ROOT / "src/officina/zeyos/registry/catalog.py").read_text()
    assert module.TARGET.read_text() == committed
    # and the module compiles
    subprocess.run([sys.executable, "-m", "py_compile", str(module.TARGET)], check=True)
