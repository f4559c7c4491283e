"""The ``officina`` command: run the server and administer instances, users and API keys.

Every command finds the store the same way the server does: ``--data-dir`` (embedded SQLite)
or ``--database-url`` (PostgreSQL), each falling back to its ``OFFICINA_*`` variable. Bad
input ends the command with a non-zero exit code and one line on stderr.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette

from officina.core import people
from officina.core.bootstrap import FirstCredentials, create_instance
from officina.core.store import Instances, Store
from officina.migrations.runner import upgrade
from officina.settings import Settings

CREDENTIALS_TAG = "OFFICINA_CREDENTIALS"
DEFAULT_ADMIN = "admin@example.com"
URL_LABELS = {"records_openapi": "API docs", "docs": "docs"}

app = typer.Typer(
    help="officina: one self-hosted back office (records, projects, field-service jobs).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
instance_app = typer.Typer(help="Create and list instances.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users of an instance.", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
application_app = typer.Typer(
    help="Register applications (OAuth 2.0 clients).", no_args_is_help=True
)
app.add_typer(instance_app, name="instance")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(application_app, name="app")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Directory of the embedded SQLite store [env OFFICINA_DATA_DIR; ./officina-data].",
        show_default=False,
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="A postgresql:// URL selects PostgreSQL [env OFFICINA_DATABASE_URL].",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
AdminEmail = Annotated[str, typer.Option("--admin-email", help="E-mail of the first admin.")]
InstanceName = Annotated[
    str | None,
    typer.Option("--instance", help="Instance to act on [main].", show_default=False),
]

P = ParamSpec("P")
R = TypeVar("R")


class CliError(Exception):
    """Bad input or state; its message is shown as the one-line error."""


def _fail(message: str) -> NoReturn:
    line = " ".join(message.split()) or "failed"
    typer.echo(f"error: {line}", err=True)
    raise typer.Exit(1)


def _one_line_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Expected failures become one line on stderr and exit code 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (CliError, ValueError) as err:
            _fail(str(err))
        except SQLAlchemyError as err:
            detail = str(getattr(err, "orig", None) or err).strip().splitlines()
            _fail(f"database error: {detail[0] if detail else type(err).__name__}")
        except OSError as err:
            where = f": {err.filename}" if err.filename else ""
            _fail(f"{err.strerror or err}{where}")

    return wrapper


def _settings(data_dir: Path | None, database_url: str | None, **more: Any) -> Settings:
    settings = Settings.from_env(data_dir=data_dir, database_url=database_url, **more)
    if settings.database_url and not settings.is_postgres:
        raise CliError("the database URL must start with postgresql://")
    return settings


@contextmanager
def _open(settings: Settings) -> Iterator[Instances]:
    instances = Instances(settings, prepare=upgrade)
    try:
        yield instances
    finally:
        instances.close()


def _store(instances: Instances, name: str) -> Store:
    if not instances.exists(name):
        raise CliError(f"unknown instance {name!r}")
    return instances.get(name)


def _check_email(email: str) -> str:
    email = email.strip()
    if not people.EMAIL.match(email):
        raise CliError(f"invalid e-mail address {email!r}")
    return email


def _where(settings: Settings) -> str:
    return "the database" if settings.is_postgres else str(settings.data_dir)


def base_url(settings: Settings) -> str:
    host = settings.host
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _urls(base: str, instance: str, asgi: Starlette | None) -> dict[str, str]:
    from officina.app import face_urls

    urls = dict(face_urls(base, instance))
    paths = {getattr(r, "path", None) for r in (asgi.routes if asgi is not None else [])}
    if "/docs" in paths:
        urls["docs"] = f"{base}/docs"
    return urls


def _emit_json(data: Any) -> None:
    print(json.dumps(data), flush=True)


def _console() -> Console:
    # Wide when piped, so keys and URLs never wrap inside the box.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def show_credentials(
    creds: FirstCredentials, base: str, urls: dict[str, str], as_json: bool
) -> None:
    """The secrets of a new instance: a boxed block for people, one tagged line for scripts."""
    payload = {
        "instance": creds.instance,
        "email": creds.email,
        "password": creds.password,
        "api_key": creds.api_key,
        "base_url": base,
    }
    if not as_json:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, value in (
            ("instance", creds.instance),
            ("admin e-mail", creds.email),
            ("password", creds.password),
            ("API key", creds.api_key),
        ):
            grid.add_row(label, value)
        for face, url in urls.items():
            grid.add_row(URL_LABELS.get(face, face), url)
        title = "officina is ready — keep these credentials, they are not shown again"
        _console().print(Panel(grid, title=title, expand=False))
    print(f"{CREDENTIALS_TAG} {json.dumps(payload)}", flush=True)


# -- serve ------------------------------------------------------------------------------


def _app_factory() -> Starlette:
    """Builds the app in each uvicorn worker process from ``OFFICINA_*`` variables."""
    from officina.app import build_app

    return build_app(Settings.from_env())


def _export(settings: Settings) -> None:
    """Hand the resolved settings to worker processes through the environment."""
    os.environ["OFFICINA_DATA_DIR"] = str(Path(settings.data_dir).resolve())
    os.environ["OFFICINA_DATABASE_URL"] = settings.database_url or ""
    os.environ["OFFICINA_SCHEMA_PREFIX"] = settings.schema_prefix
    os.environ["OFFICINA_LOG_LEVEL"] = settings.log_level
    os.environ["OFFICINA_MAX_BODY_BYTES"] = str(settings.max_body_bytes)
    os.environ["OFFICINA_METRICS_TOKEN"] = settings.metrics_token or ""
    os.environ["OFFICINA_METRICS_DIR"] = str(settings.metrics_dir or "")
    os.environ["OFFICINA_MAX_FILTER_DEPTH"] = str(settings.max_filter_depth)
    os.environ["OFFICINA_MAX_FILTER_CONDITIONS"] = str(settings.max_filter_conditions)
    os.environ["OFFICINA_MAX_IN_ITEMS"] = str(settings.max_in_items)
    os.environ["OFFICINA_LOGIN_MAX_FAILURES"] = str(settings.login_max_failures)
    os.environ["OFFICINA_LOGIN_MAX_FAILURES_PER_ADDRESS"] = str(
        settings.login_max_failures_per_address
    )
    os.environ["OFFICINA_LOGIN_WINDOW_SECONDS"] = str(settings.login_window_seconds)


def _server_options(settings: Settings) -> dict[str, Any]:
    from officina.ops.requests import uvicorn_log_config

    has = importlib.util.find_spec
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop" if has("uvloop") else "asyncio",
        "http": "httptools" if has("httptools") else "h11",
        "log_level": settings.log_level.lower(),
        "log_config": uvicorn_log_config(),
        # officina writes its own access log: JSON lines with request ids, no query strings.
        "access_log": False,
        # In-flight requests get this long to finish after SIGTERM.
        "timeout_graceful_shutdown": 30,
    }


def _stopped(signum: int, frame: Any) -> None:
    """A SIGTERM is the ordinary way to stop the server: once uvicorn has let the requests
    in flight finish it raises the signal again, and the process should then exit 0 (a
    service manager reads anything else as a failure)."""
    raise SystemExit(0)


@app.command()
@_one_line_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on [127.0.0.1].", show_default=False)
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [8000].", show_default=False)] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes [1].", show_default=False)
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    admin_email: AdminEmail = DEFAULT_ADMIN,
    as_json: AsJson = False,
    log_level: Annotated[
        str | None,
        typer.Option(help="debug, info, warning or error [info].", show_default=False),
    ] = None,
) -> None:
    """Run the HTTP server; the first start creates instance 'main' with an admin."""
    import uvicorn

    from officina.app import build_app

    settings = _settings(
        data_dir, database_url, host=host, port=port, workers=workers, log_level=log_level
    )
    if settings.workers < 1:
        raise CliError("--workers must be at least 1")
    if settings.log_level.lower() not in ("debug", "info", "warning", "error", "critical"):
        raise CliError(f"unknown log level {settings.log_level!r}")
    base = base_url(settings)
    instances = Instances(settings, prepare=upgrade)
    try:
        created = None
        if not instances.names():
            email = _check_email(admin_email)
            created = create_instance(instances, settings.default_instance, email)
        names = instances.names()
        for name in names:
            instances.get(name)  # brings every instance to the current schema
        asgi = build_app(settings, instances)
        if created is not None:
            show_credentials(created, base, _urls(base, created.instance, asgi), as_json)
        elif not as_json:
            _console().print(f"officina: serving {len(names)} instance(s) at {base}")
        options = _server_options(settings)
        if settings.workers == 1:
            signal.signal(signal.SIGTERM, _stopped)
            uvicorn.run(asgi, **options)
            return
    finally:
        instances.close()
    shared = settings.metrics_dir is None
    metrics_dir = Path(tempfile.mkdtemp(prefix="officina-metrics-")) if shared else None
    _export(replace(settings, metrics_dir=metrics_dir) if shared else settings)
    try:
        uvicorn.run("officina.cli:_app_factory", factory=True, workers=settings.workers, **options)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


# -- init and instances -----------------------------------------------------------------


@app.command()
@_one_line_errors
def init(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    admin_email: AdminEmail = DEFAULT_ADMIN,
    as_json: AsJson = False,
) -> None:
    """Create the store and instance 'main' with an admin; prints its credentials once."""
    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        existing = instances.names()
        if existing:
            raise CliError(
                f"already initialised: {_where(settings)} holds instance(s) {', '.join(existing)}"
            )
        _created(settings, instances, settings.default_instance, admin_email, as_json)


def _created(
    settings: Settings,
    instances: Instances,
    name: str,
    email: str,
    as_json: bool,
    own_database: str | None = None,
) -> None:
    creds = create_instance(instances, name, _check_email(email), database_url=own_database)
    base = base_url(settings)
    urls = _urls(base, name, None)
    if as_json:
        _emit_json(
            {
                "instance": creds.instance,
                "email": creds.email,
                "password": creds.password,
                "api_key": creds.api_key,
                "base_url": base,
                "urls": urls,
            }
        )
    else:
        show_credentials(creds, base, urls, False)


@instance_app.command("create")
@_one_line_errors
def instance_create(
    name: Annotated[str, typer.Argument(help="Instance name: a-z, 0-9, '_' and '-'.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    admin_email: AdminEmail = DEFAULT_ADMIN,
    own_database: Annotated[
        str | None,
        typer.Option(
            "--own-database",
            help="Place the instance in this PostgreSQL database (postgresql:// URL) "
            "instead of the server's store.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create an instance with an admin; prints its credentials once."""
    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        _created(settings, instances, name, admin_email, as_json, own_database)


@instance_app.command("move")
@_one_line_errors
def instance_move(
    name: Annotated[str, typer.Argument(help="Instance to move.")],
    to: Annotated[str, typer.Option("--to", help="postgresql:// URL of its new database.")],
    grace: Annotated[
        float | None,
        typer.Option("--grace", help="Seconds to wait for running servers to follow."),
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Move an instance into a database of its own; read-only (503) while it is copied."""
    import officina.migrations.models  # noqa: F401 - every face's tables
    from officina.core.backup import move

    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        summary = move(instances, name, to, grace, _progress_printer(as_json))
    if as_json:
        _emit_json({"instance": name, "database_url": to, "rows": summary.rows})
    else:
        print(f"moved {name}: {summary.rows} rows now live in the new database")


@instance_app.command("list")
@_one_line_errors
def instance_list(
    data_dir: DataDir = None, database_url: DatabaseUrl = None, as_json: AsJson = False
) -> None:
    """List the instances of this store."""
    with _open(_settings(data_dir, database_url)) as instances:
        names = instances.names()
    if as_json:
        _emit_json(names)
    else:
        for name in names:
            print(name)


# -- users and API keys -----------------------------------------------------------------


@user_app.command("create")
@_one_line_errors
def user_create(
    email: Annotated[str, typer.Option("--email", help="E-mail address (also a login name).")],
    password: Annotated[
        str | None,
        typer.Option("--password", help="At least 8 characters; random when omitted."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="User name [part of the e-mail before @].")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create a user; a generated password is printed once."""
    from officina.core.bootstrap import new_password

    settings = _settings(data_dir, database_url)
    secret = password if password is not None else new_password()
    with _open(settings) as instances:
        store = _store(instances, instance or settings.default_instance)
        with store.write() as conn:
            user = people.create_user(conn, email=email, password=secret, name=name, admin=admin)
    data: dict[str, Any] = {
        "instance": store.name,
        "id": user.id,
        "uuid": user.uuid,
        "email": user.email,
        "name": user.name,
        "admin": admin,
    }
    if password is None:
        data["password"] = secret
    if as_json:
        _emit_json(data)
        return
    role = "admin " if admin else ""
    print(f"created {role}user {user.name} <{user.email}> (ID {user.id}) in {store.name}")
    if password is None:
        print(f"password: {secret}")


@apikey_app.command("create")
@_one_line_errors
def apikey_create(
    email: Annotated[str, typer.Option("--email", help="E-mail of the key's user.")],
    label: Annotated[str, typer.Option("--label", help="A note to recognise the key.")] = "",
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create an API key (use as Basic api:<key>); the key is printed once."""
    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        store = _store(instances, instance or settings.default_instance)
        with store.write() as conn:
            key = people.create_api_key(conn, people.user_id_by_email(conn, email), label)
    if as_json:
        _emit_json({"instance": store.name, "email": email.strip(), "api_key": key})
    else:
        print(key)


@application_app.command("create")
@_one_line_errors
def application_create(
    name: Annotated[str, typer.Option("--name", help="Name shown on the consent page.")],
    identifier: Annotated[
        str, typer.Option("--identifier", help="The OAuth client_id: letters, digits, _ . -")
    ],
    callback: Annotated[
        list[str] | None,
        typer.Option("--callback", help="Allowed redirect URI (repeatable); HTTPS or loopback."),
    ] = None,
    restricted: Annotated[
        bool,
        typer.Option("--restricted", help="Only users granted this application may use it."),
    ] = False,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Register an application; its client_secret is printed once."""
    from officina.core.applications import create_application

    if not callback:
        raise CliError("at least one --callback URL is required")
    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        store = _store(instances, instance or settings.default_instance)
        with store.write() as conn:
            created = create_application(
                conn,
                name=name,
                identifier=identifier,
                callbacks=callback,
                restricted=restricted,
            )
    data = {
        "instance": store.name,
        "id": created.id,
        "name": created.name,
        "client_id": created.identifier,
        "client_secret": created.secret,
        "callbacks": list(created.callbacks),
        "restricted": restricted,
    }
    if as_json:
        _emit_json(data)
        return
    print(f"created application {created.name} (ID {created.id}) in {store.name}")
    print(f"client_id: {created.identifier}")
    print(f"client_secret: {created.secret}")
    print("keep the secret: it is not shown again")


def _progress_printer(as_json: bool) -> Callable[[str, int], None] | None:
    if as_json:
        return None
    console = _console()

    def show(table: str, rows: int) -> None:
        if rows:
            console.print(f"  {table}: {rows} rows")

    return show


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
    with _open(settings) as instances:
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
    if output is not None:
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


def main() -> None:
    app(prog_name="officina")
