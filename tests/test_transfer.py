"""Export and import of an entity: validated like the API, all or nothing, line numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from officina.cli import app as cli_app
from officina.core.bootstrap import create_instance
from officina.core.store import Instances
from officina.migrations.runner import upgrade
from officina.settings import Settings
from tests.conftest import PG_URL, close_and_drop, unique


@pytest.fixture
def cli(tmp_path: Path, session_env) -> Iterator[tuple[CliRunner, list[str]]]:
    """A CLI runner pointed at a fresh store of the session's kind with instance main."""
    if session_env.kind == "postgres":
        prefix = unique("t") + "_"
        settings = Settings(data_dir=tmp_path / "d", database_url=PG_URL, schema_prefix=prefix)
        args, env = ["--database-url", str(PG_URL)], {"OFFICINA_SCHEMA_PREFIX": prefix}
    else:
        settings = Settings(data_dir=tmp_path / "d")
        args, env = ["--data-dir", str(tmp_path / "d")], {}
    instances = Instances(settings, prepare=upgrade)
    create_instance(instances, "main")
    yield CliRunner(env=env), args
    close_and_drop(instances)


def test_import_then_export_round_trip(tmp_path, cli):
    runner, store_args = cli
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text(
        'lastname,currency,type,customernum\nLightexx AG,EUR,1,C-1\n"Müller, Söhne",CHF,0,\n'
    )
    result = runner.invoke(
        cli_app, ["import", "main", str(csv_file), "--entity", "accounts", *store_args, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 2
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        json.dumps({"lastname": "Zeta", "currency": "EUR", "extdata": {"k": "v"}}) + "\n"
    )
    assert (
        runner.invoke(
            cli_app, ["import", "main", str(jsonl), "--entity", "accounts", *store_args]
        ).exit_code
        == 0
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        cli_app,
        [
            "export",
            "main",
            "--entity",
            "accounts",
            "--format",
            "jsonl",
            "-o",
            str(out),
            *store_args,
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["lastname"] for r in rows] == ["Lightexx AG", "Müller, Söhne", "Zeta"]
    assert rows[1]["currency"] == "CHF" and rows[0]["customernum"] == "C-1"
    result = runner.invoke(
        cli_app, ["export", "main", "--entity", "accounts", "--format", "csv", *store_args]
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("ID,fork,ownergroup")
    assert '"Müller, Söhne"' in lines[2]


def test_a_bad_row_writes_nothing_and_names_its_line(tmp_path, cli):
    runner, store_args = cli
    bad = tmp_path / "bad.csv"
    bad.write_text("lastname,currency\nGood,EUR\nAlso good,EUR\nBad,euro\nNever,EUR\n")
    result = runner.invoke(
        cli_app, ["import", "main", str(bad), "--entity", "accounts", *store_args]
    )
    assert result.exit_code != 0
    assert "line 4" in result.output and "currency" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(cli_app, ["export", "main", "--entity", "accounts", *store_args])
    assert result.exit_code == 0 and result.output == ""
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"lastname": "A", "currency": "EUR"}\n{oops\n')
    result = runner.invoke(
        cli_app, ["import", "main", str(broken), "--entity", "accounts", *store_args]
    )
    assert result.exit_code != 0 and "line 2" in result.output
    result = runner.invoke(
        cli_app, ["import", "main", str(broken), "--entity", "users", *store_args]
    )
    assert result.exit_code != 0 and "does not allow create" in result.output
