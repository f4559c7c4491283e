"""Commands that move an instance's data: backup, restore, export, import and the demo data."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from officina.cli.common import (
    AsJson,
    CliError,
    DatabaseUrl,
    DataDir,
    _emit_json,
    _fail,
    _one_line_errors,
    _open,
    _progress_printer,
    _settings,
    _store,
    app,
)
from officina.core import people
from officina.core.store import Store


@app.command("backup")
@_one_line_errors
def backup_command(
    name: Annotated[str, typer.Argument(help="Instance to back up.")],
    file: Annotated[Path, typer.Argument(help="Backup file to write (gzip JSON lines).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Write one instance to a file; safe while the server runs, restorable on either store."""
    import officina.migrations.models  # noqa: F401 - every face's tables
    from officina.core.backup import backup
    from officina.migrations.runner import current

    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        store = _store(instances, name)
        summary = backup(store, file, current(store), _progress_printer(as_json))
    result = {
        "instance": summary.instance,
        "file": str(file),
        "tables": summary.tables,
        "rows": summary.rows,
    }
    if as_json:
        _emit_json(result)
    else:
        print(f"backed up {summary.instance}: {summary.rows} rows of {summary.tables} tables")


@app.command("restore")
@_one_line_errors
def restore_command(
    file: Annotated[Path, typer.Argument(help="Backup file written by 'officina backup'.")],
    as_name: Annotated[
        str | None, typer.Option("--as", help="Name of the new instance (default: as saved).")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create a new instance from a backup file (the name must not be taken)."""
    import officina.migrations.models  # noqa: F401 - every face's tables
    from officina.core.backup import BackupError, restore

    if not file.exists():
        _fail(f"no such file: {file}")
    settings = _settings(data_dir, database_url)
    with _open(settings, create=True) as instances:
        try:
            summary = restore(instances, file, as_name, _progress_printer(as_json))
        except BackupError as err:
            _fail(str(err))
    result = {"instance": summary.instance, "tables": summary.tables, "rows": summary.rows}
    if as_json:
        _emit_json(result)
    else:
        print(f"restored {summary.instance}: {summary.rows} rows of {summary.tables} tables")


def _admin_principal(conn: Any, email: str | None) -> Any:
    """The user a command acts as: the one named, or the instance's first administrator."""
    from sqlalchemy import select

    from officina.core.auth import load_principal
    from officina.core.schema import groups, groups2users

    if email:
        user_id = people.user_id_by_email(conn, email)
    else:
        row = conn.execute(
            select(groups2users.c.user)
            .join(groups, groups.c.ID == groups2users.c.group)
            .where(groups.c.name_ci == people.ADMIN_GROUP.lower())
            .order_by(groups2users.c.user)
        ).first()
        if row is None:
            raise CliError("the instance has no administrator; name a user with --email")
        user_id = row.user
    principal = load_principal(conn, user_id, "cli")
    if principal is None:
        raise CliError("that user may not sign in (inactive or expired)")
    return principal


EntityName = Annotated[str, typer.Option("--entity", help="Records-face entity, e.g. accounts.")]
Format = Annotated[str, typer.Option("--format", help="csv or jsonl.")]
ActAs = Annotated[
    str | None, typer.Option("--email", help="Act as this user (default: first admin).")
]


@app.command("export")
@_one_line_errors
def export_command(
    name: Annotated[str, typer.Argument(help="Instance to export from.")],
    entity: EntityName,
    fmt: Format = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    email: ActAs = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="With --output: the summary as JSON. Without it the rows themselves go to "
            "stdout, as JSON lines unless --format csv.",
        ),
    ] = False,
) -> None:
    """Write every row of one entity as CSV or JSON lines."""
    from officina.zeyos.transfer import export

    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        store = _store(instances, name)
        with store.read() as conn:
            principal = _admin_principal(conn, email)
            if output is None:
                count = export(conn, entity, fmt, sys.stdout, principal)
            else:
                with output.open("w", newline="", encoding="utf-8") as out:
                    count = export(conn, entity, fmt, out, principal)
    if output is None:
        return
    if as_json:
        _emit_json({"instance": name, "entity": entity, "rows": count, "file": str(output)})
    else:
        print(f"exported {count} rows of {entity} to {output}")


@app.command("import")
@_one_line_errors
def import_command(
    name: Annotated[str, typer.Argument(help="Instance to import into.")],
    file: Annotated[Path, typer.Argument(help="CSV (header row) or JSON-lines file.")],
    entity: EntityName,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from the file name).")
    ] = None,
    email: ActAs = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create rows from a file, validated like the API; one bad row writes nothing."""
    from rich.progress import Progress

    from officina.zeyos.transfer import as_text, import_rows

    if not file.exists():
        _fail(f"no such file: {file}")
    kind = fmt or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        store = _store(instances, name)
        data = file.read_bytes()
        lines = max(1, data.count(b"\n"))
        with Progress(disable=as_json, transient=True) as bar, store.write() as conn:
            task = bar.add_task(f"importing {entity}", total=lines)
            principal = _admin_principal(conn, email)
            result = import_rows(
                conn, entity, kind, as_text(data), principal, lambda n: bar.advance(task, n)
            )
    if as_json:
        _emit_json({"instance": name, "entity": result.entity, "rows": result.rows})
    else:
        print(f"imported {result.rows} rows into {result.entity}")


@app.command("demo")
@_one_line_errors
def demo_command(
    name: Annotated[str, typer.Argument(help="Instance to fill.")] = "main",
    size: Annotated[
        int | None,
        typer.Option(
            help="Instead of the sample company: N accounts with contacts, a tree of N work "
            "packages and N time records, for benchmarks.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Fill an instance with a sample company: customers, a project with hours and a
    billing, and service jobs in German and English (or, with --size, benchmark data)."""
    from rich.progress import Progress

    from officina.demo.client import DemoError, FaceClient
    from officina.demo.company import PARTS, fill

    if size is not None and size < 1:
        raise CliError("--size must be at least 1")
    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        store = _store(instances, name)
        client = FaceClient(instances, name)
        try:
            with Progress(disable=as_json, transient=not as_json) as bar:
                if size is None:
                    task = bar.add_task("sample company", total=len(PARTS))
                    fill(client, lambda label: bar.update(task, advance=1, description=label))
                else:
                    _scale(client, store, size, bar)
        except DemoError as err:
            raise CliError(f"demo data was refused: {err}") from err
        finally:
            client.close()
    if as_json:
        _emit_json({"instance": name, "size": size, "parts": [label for label, _ in PARTS]})
    elif size is None:
        print(f"filled instance {name!r} with the sample company")
    else:
        print(f"filled instance {name!r} with {size} accounts, work packages and time records")


def _scale(client: Any, store: Store, size: int, bar: Any) -> None:
    from officina.demo import scale

    def step(label: str) -> Callable[[int], None]:
        task = bar.add_task(label, total=size)
        return lambda n: bar.advance(task, n)

    scale.accounts_and_contacts(client, store, size, step("accounts and contacts"))
    packages = scale.project_tree(client, store, size, step("work packages"))
    scale.time_tracking(client, store, size, packages, step("time records"))
    scale.analyze(store)
