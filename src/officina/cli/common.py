"""What every ``officina`` command shares: the command objects, the options that find the
store, one-line errors, and how new credentials are shown.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette

from officina.core import people
from officina.core.bootstrap import FirstCredentials
from officina.core.store import Instances, Store
from officina.migrations.runner import upgrade
from officina.settings import Settings

CREDENTIALS_TAG = "OFFICINA_CREDENTIALS"
DEFAULT_ADMIN = "admin@example.com"
URL_LABELS = {
    "records_openapi": "records docs",
    "projects_openapi": "projects docs",
    "jobs_openapi": "jobs docs",
    "docs": "docs",
}


def _commands(help: str, **more: Any) -> typer.Typer:
    """A command group whose help is plain text: with Rich markup on, the bracketed defaults
    ("[main]") would be read as style tags and vanish from --help. Every command object is
    made here, so this one setting covers all of them."""
    return typer.Typer(
        help=help,
        rich_markup_mode=None,
        no_args_is_help=True,
        # Up to 120 columns where the terminal has them, so command summaries are cut less.
        context_settings={"max_content_width": 120},
        **more,
    )


app = _commands(
    "officina: one self-hosted back office (records, projects, field-service jobs).",
    add_completion=False,
    pretty_exceptions_enable=False,
)
instance_app = _commands("Create, list and move instances.")
user_app = _commands("Manage users of an instance.")
apikey_app = _commands("Manage API keys.")
application_app = _commands("Register applications (OAuth 2.0 clients).")
group_app = _commands("Manage groups: their module permissions and their members.")
app.add_typer(instance_app, name="instance")
app.add_typer(user_app, name="user")
app.add_typer(group_app, name="group")
app.add_typer(apikey_app, name="apikey")
app.add_typer(application_app, name="app")


def _show_version(value: bool) -> None:
    if value:
        from officina import __version__

        print(f"officina {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """officina: one self-hosted back office (records, projects, field-service jobs)."""


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
def _open(settings: Settings, create: bool = False) -> Iterator[Instances]:
    """The store's instances; a command that only works on an existing store (``create``
    false) refuses a missing one instead of quietly making a new, empty store."""
    if not create and not _store_exists(settings):
        raise CliError(
            f"no officina store in {_where(settings)}: check --data-dir / --database-url, "
            "or create one with 'officina init'"
        )
    instances = Instances(settings, prepare=upgrade)
    try:
        yield instances
    finally:
        instances.close()


def _store_exists(settings: Settings) -> bool:
    if not settings.is_postgres:
        return (Path(settings.data_dir) / "officina.sqlite").is_file()
    from sqlalchemy import text

    from officina.core.store import CONTROL_SCHEMA, postgres_engine

    assert settings.database_url is not None
    schema = settings.schema_prefix + CONTROL_SCHEMA
    with postgres_engine(settings.database_url).connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
            {"s": schema},
        ).first()
    return found is not None


def _store(instances: Instances, name: str) -> Store:
    if not instances.exists(name):
        raise CliError(f"unknown instance {name!r}")
    return instances.get(name)


@contextmanager
def _instance_store(
    instance: str | None, data_dir: Path | None, database_url: str | None
) -> Iterator[Store]:
    """The store of one existing instance (the default one when ``instance`` is None), for
    the many commands that work on a single instance."""
    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        yield _store(instances, instance or settings.default_instance)


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


def _progress_printer(as_json: bool) -> Callable[[str, int], None] | None:
    if as_json:
        return None
    console = _console()

    def show(table: str, rows: int) -> None:
        if rows:
            console.print(f"  {table}: {rows} rows")

    return show
