"""Generate ``src/officina/zeyos/registry/catalog.py`` from the vendor's published references.

Reads the ZeyOS OpenAPI document and database schema reference (facts only: names, types,
enums, patterns, references, permissions) and writes a compact Python module of ``Entity``
objects. Hand decisions live in ``overrides.py``, never in the generated file.

Usage: python3 tools/gen_registry.py [REFERENCE_DIR]   (default: ../shared/reference/zeyos)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REF = ROOT.parent / "shared" / "reference" / "zeyos"
TARGET = ROOT / "src" / "officina" / "zeyos" / "registry" / "catalog.py"

_VARCHAR = re.compile(r"^character varying\((\d+)\)$")
_FK = re.compile(
    r'FOREIGN KEY \("?(\w+)"?\) REFERENCES "?(\w+)"?\("?ID"?\)(?: ON DELETE (CASCADE|SET NULL))?'
)
_RANGE = re.compile(r"VALUE >= (-?\d+) AND VALUE <= (-?\d+)")
_PATTERN = re.compile(r"VALUE::text ~ '(.*)'::text")
_PERM = re.compile(r"Requires (writable )?((?:`\w+`(?:, | or )?)+) permission")
_DEPENDS = re.compile(r"Has dependency on ((?:`\w+`(?: or | and )?)+)\.")
_NAMES = re.compile(r"`(\w+)`")


def _kind(
    db_type: str | None, api: dict[str, Any], name: str, entity: str
) -> tuple[str, int | None]:
    if entity == "binfiles" and name == "hash":
        return "HASH", None
    if db_type is None:
        if api.get("type") == "integer":
            return ("BIGINT" if api.get("format") == "int64" else "SMALLINT"), None
        if api.get("type") == "number":
            return "FLOAT", None
        return "TEXT", None
    if m := _VARCHAR.match(db_type):
        return "VARCHAR", int(m.group(1))
    return {
        "integer": "INT",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "double precision": "FLOAT",
        "text": "TEXT",
        "json": "JSON",
        "text[]": "TEXT_ARRAY",
        "bigint[]": "BIGINT_ARRAY",
        "t_entity": "ENTITY",
        "bytea": "TEXT",
    }[db_type], None


def _default(raw: str | None, kind: str) -> Any:
    if raw is None or raw.upper() == "NULL":
        return None
    if "now()" in raw:
        return "NOW"
    text = re.sub(r"::[\w ]+(\[\])?$", "", raw)
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    try:
        number = float(text)
    except ValueError:
        return None
    if kind in ("FLOAT",):
        return number
    return int(number)


def _resolve(schemas: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref / oneOf to the plain (string/integer) variant of a property."""
    if "$ref" in prop:
        return _resolve(schemas, schemas[prop["$ref"].rsplit("/", 1)[1]])
    if "oneOf" in prop:
        return _resolve(schemas, prop["oneOf"][0])
    return prop


def _perms(text: str) -> tuple[tuple[str, ...], bool, bool]:
    """(identifiers, writable, creator_bound) from an operation description."""
    creator = "to be the `creator`" in text
    m = _PERM.search(text)
    if not m:
        return (), False, creator
    return tuple(_NAMES.findall(m.group(2))), bool(m.group(1)), creator


def build(ref_dir: Path) -> dict[str, dict[str, Any]]:
    api = json.loads((ref_dir / "api.json").read_text())
    db = {t["name"]: t for t in json.loads((ref_dir / "dbref.json").read_text())}
    schemas = api["components"]["schemas"]
    paths = api["paths"]
    names = sorted(
        p.strip("/") for p in paths if p.count("/") == 1 and p not in ("/config", "/settings")
    )
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        table = db[name]
        db_fields = {f["name"]: f for f in table["fields"]}
        fkeys: dict[str, tuple[str, str]] = {}
        for c in table["constraints"]:
            if c["type"] == "foreign_key" and (m := _FK.search(c["def"])):
                fkeys[m.group(1)] = (m.group(2), m.group(3) or "NONE")
        checks: dict[str, list[str]] = {}
        for c in table["constraints"]:
            if c["type"] == "check" and c["domain"]:
                column = c["name"].split(f"dc_{name}_", 1)[-1]
                checks.setdefault(column, []).append(c["def"])
        trigram = [
            i["keys"][0] for i in table["indexes"] if "gin_trgm_ops" in i["def"] and i["keys"]
        ]
        ops = set()
        op_ids: list[tuple[str, str]] = []
        collection = paths.get(f"/{name}", {})
        item = paths.get(f"/{name}/{{ID}}", {})
        item_ops = (("get", "GET"), ("head", "HEAD"), ("patch", "UPDATE"), ("delete", "DELETE"))
        for source, pairs in (
            (collection, (("post", "LIST"), ("put", "CREATE"))),
            (item, item_ops),
        ):
            for method, op in pairs:
                if method in source:
                    ops.add(op)
                    op_ids.append((op.lower(), source[method]["operationId"]))
        read_desc = collection.get("post", {}).get("description", "")
        write_op = collection.get("put") or item.get("patch") or item.get("delete") or {}
        read_perms, _, _ = _perms(read_desc)
        write_perms, writable, creator_bound = _perms(write_op.get("description", ""))
        depends: list[str] = []
        mode = "and"
        dep_text = read_desc + " " + item.get("get", {}).get("description", "")
        for m in _DEPENDS.finditer(dep_text):
            found = _NAMES.findall(m.group(1))
            if " or " in m.group(1):
                mode = "or"
            depends += [d for d in found if d not in depends]
        props = schemas[name]["properties"]
        fields = []
        for fname, raw_prop in props.items():
            prop = _resolve(schemas, raw_prop)
            dbf = db_fields.get(fname)
            kind, max_length = _kind(dbf["type"] if dbf else None, prop, fname, name)
            fk = fkeys.get(fname)
            binfile = fk is not None and fk[0] == "binfiles"
            if binfile:
                kind = "BINFILE"
            spec: dict[str, Any] = {"name": fname, "kind": kind}
            nullable = bool(prop.get("nullable")) or (dbf is not None and not dbf["notnull"])
            if fname == "ID":
                nullable = False
            if nullable:
                spec["nullable"] = True
            default = _default(dbf["default"], kind) if dbf else prop.get("default")
            if fname == "creator":
                default = "CALLER"
            if default is not None:
                spec["default"] = default
            if (
                dbf is not None
                and dbf["notnull"]
                and dbf["default"] is None
                and not dbf["identity"]
                and fname not in ("ID", "creationdate", "lastmodified", "creator")
            ):
                spec["required"] = True
            if max_length is None and isinstance(prop.get("maxLength"), int):
                max_length = prop["maxLength"]
            if max_length is not None:
                spec["max_length"] = max_length
            choices = prop.get("enum")
            for check in checks.get(fname, []):
                if (r := _RANGE.search(check)) and kind in ("SMALLINT", "INT"):
                    low, high = int(r.group(1)), int(r.group(2))
                    if high - low <= 64:
                        choices = list(range(low, high + 1))
                    else:
                        spec["minimum"], spec["maximum"] = low, high
            if choices is not None and kind != "ENTITY":
                spec["choices"] = tuple(c for c in choices if c is not None)
            for bound in ("minimum", "maximum"):
                if bound in prop and bound not in spec and kind not in ("TEXT", "VARCHAR"):
                    spec[bound] = prop[bound]
            pattern = (dbf or {}).get("pattern") or prop.get("pattern")
            if pattern is None:
                for check in checks.get(fname, []):
                    if p := _PATTERN.search(check):
                        pattern = p.group(1)
            if pattern and kind in ("TEXT", "VARCHAR"):
                spec["pattern"] = pattern
            target = fk[0] if fk else ("users" if fname == "creator" else None)
            if target is not None and (target in names):
                spec["ref"] = target
                if fk and fk[1] != "NONE" and not binfile:
                    spec["on_delete"] = fk[1].replace(" ", "_")
            if kind in ("TEXT", "VARCHAR") and "pattern" not in spec:
                single = any("[\\r\\n]'" in c for c in checks.get(fname, []))
                if not single:
                    spec["multiline"] = True
            if binfile:
                spec["readonly"] = True
            if dbf is not None and dbf["indexed"] and fname != "ID":
                spec["indexed"] = True
            fields.append(spec)
        has = set(props)
        owner = (
            "USER_GROUP"
            if {"owneruser", "ownergroup"} <= has
            else "GROUP"
            if "ownergroup" in has
            else "NONE"
        )
        out[name] = {
            "name": name,
            "fields": fields,
            "ops": sorted(ops),
            "pk_kind": "BIGINT" if props["ID"].get("format") == "int64" else "INT",
            "read_perms": read_perms,
            "write_perms": write_perms,
            "creator_bound": creator_bound,
            "write_needs_writable": writable,
            "owner": owner,
            "depends_on": tuple(depends),
            "depends_mode": mode,
            "extdata": f"extdataregular_{name}" in db,
            "tags": f"tagrels_{name}" in db,
            "searchable": tuple(t for t in trigram if t in has),
            "operation_ids": tuple(op_ids),
        }
    return out


def _field_src(spec: dict[str, Any]) -> str:
    parts = [repr(spec["name"]), f"K.{spec['kind']}"]
    for key in ("nullable", "required", "multiline", "readonly", "indexed"):
        if spec.get(key):
            parts.append(f"{key}=True")
    if "default" in spec:
        d = spec["default"]
        parts.append(f"default=D.{d}" if d in ("NOW", "CALLER") else f"default={d!r}")
    for key in ("max_length", "choices", "minimum", "maximum", "pattern", "ref"):
        if key in spec:
            parts.append(f"{key}={spec[key]!r}")
    if "on_delete" in spec:
        parts.append(f"on_delete=X.{spec['on_delete']}")
    return f"F({', '.join(parts)}),"


def render(entities: dict[str, dict[str, Any]]) -> str:
    lines = [
        '"""The ZeyOS entity catalogue, generated by tools/gen_registry.py: do not edit by hand.',
        "",
        "Decisions taken by hand are applied on top of it by overrides.py.",
        '"""',
        "",
        "# ruff: noqa: E501",
        "from officina.zeyos.registry.model import Default as D",
        "from officina.zeyos.registry.model import Entity, Op, Owner",
        "from officina.zeyos.registry.model import Field as F",
        "from officina.zeyos.registry.model import Kind as K",
        "from officina.zeyos.registry.model import OnDelete as X",
        "",
        "CATALOG: dict[str, Entity] = {",
    ]
    for name, e in entities.items():
        lines.append(f"    {name!r}: Entity(")
        lines.append(f"        name={name!r},")
        lines.append("        fields=(")
        lines += [f"            {_field_src(f)}" for f in e["fields"]]
        lines.append("        ),")
        ops = ", ".join(f"Op.{o}" for o in e["ops"])
        lines.append(f"        ops=frozenset({{{ops}}}),")
        lines.append(f"        pk_kind=K.{e['pk_kind']},")
        for key in ("read_perms", "write_perms", "depends_on", "searchable"):
            if e[key]:
                lines.append(f"        {key}={tuple(e[key])!r},")
        if not e["write_needs_writable"]:
            lines.append("        write_needs_writable=False,")
        if e["owner"] != "NONE":
            lines.append(f"        owner=Owner.{e['owner']},")
        if e["depends_mode"] != "and":
            lines.append(f"        depends_mode={e['depends_mode']!r},")
        for key in ("creator_bound", "extdata", "tags"):
            if e[key]:
                lines.append(f"        {key}=True,")
        lines.append(f"        operation_ids={e['operation_ids']!r},")
        lines.append("    ),")
    lines.append("}")
    canonical = None
    return "\n".join(lines) + "\n" + (canonical or "")


def canonical_names(ref_dir: Path) -> tuple[str, ...]:
    api = json.loads((ref_dir / "api.json").read_text())
    enum = api["components"]["schemas"]["associations"]["properties"]["entity1"]["enum"]
    return tuple(enum)


def main(argv: list[str]) -> int:
    ref_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_REF
    entities = build(ref_dir)
    source = render(entities)
    source += f"\nCANONICAL_ENTITY_NAMES: tuple[str, ...] = {canonical_names(ref_dir)!r}\n"
    TARGET.write_text(source)
    print(f"wrote {TARGET.name}: {len(entities)} entities")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
