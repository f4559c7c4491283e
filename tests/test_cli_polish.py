"""What a newcomer meets first on the command line: whole help texts, the version, one
message per refusal, no store made by a typo, a busy port named as such."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import typer.main
from typer.testing import CliRunner

import officina
from officina.cli import app
from tests.test_cli import Cli, cli  # noqa: F401 - the fixture


def _help(*argv: str) -> str:
    result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_help_keeps_the_bracketed_defaults() -> None:
    serve = _help("serve")
    for shown in (
        "[env OFFICINA_DATA_DIR; ./officina-data]",
        "[env OFFICINA_DATABASE_URL]",
        "[127.0.0.1]",
        "[8000]",
        "[info]",
        "[1]",
    ):
        assert shown in serve, shown
    assert "Instance to act on [main]." in _help("user", "create")
    assert "User name [part of the e-mail before @]." in _help("user", "create")
    assert "Instance to act on [main]." in _help("group", "grant")
    assert "Create, list and move instances." in _help()
    assert "move" in _help("instance")


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"officina {officina.__version__}\n")


def test_reserved_instance_name_has_its_own_message(cli: Cli) -> None:  # noqa: F811
    cli.ok("init")
    assert cli.fails("instance", "create", "metrics") == (
        "error: invalid instance name 'metrics': it is reserved for the server's own paths "
        "(docs, favicon.ico, healthz, metrics, readyz, static)"
    )
    assert cli.fails("instance", "create", "Bad Name") == (
        "error: invalid instance name 'Bad Name': use 1-48 characters a-z, 0-9, '_' or '-', "
        "starting with a letter or digit"
    )


def test_read_commands_do_not_create_a_store(tmp_path: Path) -> None:
    typo = tmp_path / "offcina-data"
    for argv in (
        ["instance", "list"],
        ["group", "list"],
        ["export", "main", "--entity", "accounts"],
        ["user", "create", "--email", "a@b.c"],
    ):
        result = CliRunner().invoke(app, [*argv, "--data-dir", str(typo)])
        assert result.exit_code == 1
        assert result.stderr == (
            f"error: no officina store in {typo}: check --data-dir / --database-url, "
            "or create one with 'officina init'\n"
        )
        assert not typo.exists()


def test_export_json_summary(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    cli.ok("init")
    out = tmp_path / "accounts.csv"
    data = cli.json("export", "main", "--entity", "accounts", "--format", "csv", "-o", str(out))
    assert data == {"instance": "main", "entity": "accounts", "rows": 0, "file": str(out)}
    assert out.read_text().startswith("ID,")
    # Without --output the rows themselves are the machine-readable answer.
    rows = cli.ok("export", "main", "--entity", "accounts", "--json").stdout
    assert rows == ""


def test_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        data_dir = tmp_path / "data"
        result = CliRunner().invoke(
            app, ["serve", "--port", str(port), "--data-dir", str(data_dir)]
        )
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: port {port} on 127.0.0.1 is already in use: stop the program holding it "
        "or choose another with --port\n"
    )
    assert result.stdout == ""
    assert not data_dir.exists()  # refused before anything was created


def _leaves(command: Any, path: list[str]) -> list[list[str]]:
    subs = getattr(command, "commands", None)
    if not subs:
        return [path]
    return [leaf for name, sub in subs.items() for leaf in _leaves(sub, [*path, name])]


def test_every_command_takes_json() -> None:
    commands = _leaves(typer.main.get_command(app), [])
    assert ["group", "grant"] in commands and ["export"] in commands
    for argv in commands:
        assert "--json" in _help(*argv), argv
