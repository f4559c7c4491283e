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
    base_url,
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
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Add one more copy of the sample company, its names marked with its number.",
        ),
    ] = False,
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
    from officina.demo.client import DemoError, FaceClient

    if size is not None and size < 1:
        raise CliError("--size must be at least 1")
    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        store = _store(instances, name)
        if size is not None:
            client = FaceClient(instances, name)
            try:
                _scale_all(client, store, size, as_json)
            except DemoError as err:
                raise CliError(f"demo data was refused: {err}") from err
            finally:
                client.close()
            if as_json:
                _emit_json({"instance": name, "size": size})
            else:
                print(
                    f"filled instance {name!r} with {size} accounts, work packages and time records"
                )
            return
        made = _sample_company(instances, store, name, again, as_json)
    base = base_url(settings)
    tries = _things_to_try(base, name, made)
    if as_json:
        _emit_json(
            {"instance": name, "copy": made["copy"], "created": _summary(made), "try": tries}
        )
        return
    print(
        f"filled instance {name!r} with the sample company"
        + (f" (copy {made['copy']})" if made["copy"] > 1 else "")
    )
    for line in _summary_lines(made):
        print(f"  {line}")
    print("three things to try (API_KEY: the key printed at the first start):")
    for command in tries:
        print(f"  {command}")


def _sample_company(
    instances: Any, store: Store, name: str, again: bool, as_json: bool
) -> dict[str, Any]:
    """One copy of the sample company, or nothing: a failure takes back every row written."""
    from rich.progress import Progress

    from officina.demo.client import DemoError, FaceClient
    from officina.demo.company import PARTS, copies, fill
    from officina.demo.undo import snapshot, undo

    client = FaceClient(instances, name)
    try:
        held = copies(client)
    except BaseException:
        client.close()
        raise
    if held and not again:
        client.close()
        raise CliError(
            f"instance {name!r} already holds the sample company; use --again to add another copy"
        )
    before = snapshot(store)
    made: dict[str, Any] = {}
    try:
        # A progress bar only where someone watches: piped output stays the summary alone.
        with Progress(disable=as_json or not sys.stdout.isatty(), transient=True) as bar:
            task = bar.add_task("sample company", total=len(PARTS))
            made = fill(
                client,
                lambda label: bar.update(task, advance=1, description=label),
                copy=held + 1,
            )
    except DemoError as err:
        client.close()
        undo(store, before)
        raise CliError(f"demo data was refused, nothing was kept: {err}") from err
    except BaseException:
        client.close()
        undo(store, before)
        raise
    client.close()
    return made


def _summary(made: dict[str, Any]) -> dict[str, Any]:
    return {
        "accounts": len(made["accounts"]),
        "contacts": len(made["accounts"]),
        "project": made["project"],
        "work_packages": made["work_packages"],
        "time_records": made["time_records"],
        "billings": 1,
        "jobs": made["jobs"],
    }


def _summary_lines(made: dict[str, Any]) -> list[str]:
    from officina.demo.company import PROJECT_CUSTOMER

    count = len(made["accounts"])
    return [
        f"records:  {count} customer accounts ({', '.join(made['accounts'])}), "
        f"each with a contact person",
        f"projects: project {made['project']} for {PROJECT_CUSTOMER} (the same account), "
        f"{made['work_packages']} work packages, {made['time_records']} time records, "
        "1 billing",
        f"jobs:     {len(made['jobs'])} service jobs ({', '.join(made['jobs'])}) of the "
        f"template {made['template']!r}, in German and English",
    ]


def _things_to_try(base: str, name: str, made: dict[str, Any]) -> list[str]:
    root = f"{base}/{name}"
    fields = '{"fields": ["ID", "lastname", "contact.city"], "sort": ["+lastname"]}'
    return [
        f"curl -u api:API_KEY -H 'Content-Type: application/json' -d '{fields}' "
        f"{root}/api/v1/accounts",
        f"curl -u api:API_KEY {root}/flow/api/v1/projects/{made['project']}",
        f"curl -u api:API_KEY -H 'Accept-Language: de' {root}/goana/api/v1/jobs",
    ]


def _scale_all(client: Any, store: Store, size: int, as_json: bool) -> None:
    from rich.progress import Progress

    with Progress(disable=as_json, transient=True) as bar:
        _scale(client, store, size, bar)


def _scale(client: Any, store: Store, size: int, bar: Any) -> None:
    from officina.demo import scale

    def step(label: str) -> Callable[[int], None]:
        task = bar.add_task(label, total=size)
        return lambda n: bar.advance(task, n)

    scale.accounts_and_contacts(client, store, size, step("accounts and contacts"))
    packages = scale.project_tree(client, store, size, step("work packages"))
    scale.time_tracking(client, store, size, packages, step("time records"))
    scale.analyze(store)
