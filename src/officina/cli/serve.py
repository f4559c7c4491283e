"""``officina serve``: the HTTP server, in one process or several workers."""

from __future__ import annotations

import errno
import gc
import importlib.util
import os
import shutil
import signal
import socket
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from starlette.applications import Starlette

from officina.cli.common import (
    DEFAULT_ADMIN,
    AdminEmail,
    AsJson,
    CliError,
    DatabaseUrl,
    DataDir,
    _check_email,
    _console,
    _one_line_errors,
    _settings,
    _urls,
    app,
    base_url,
    show_credentials,
)
from officina.core.bootstrap import create_instance
from officina.core.store import Instances
from officina.migrations.runner import upgrade
from officina.settings import Settings


def _app_factory() -> Starlette:
    """Builds the app in each uvicorn worker process from ``OFFICINA_*`` variables."""
    from officina.app import build_app

    asgi = build_app(Settings.from_env())
    _settle_heap()
    return asgi


def _settle_heap() -> None:
    """Take what the server holds from its start (modules, tables, the entity registry:
    about 170 000 objects) out of the cyclic garbage collector's sight.

    Every full collection walks all tracked objects. Under load on PostgreSQL, where the
    asynchronous driver's waits leave cyclic garbage behind, a full collection came every
    second or two and took about 130 ms: 7 % of the server's time, and a pause for every
    request in flight. Objects made later are collected as before. The price: an object set
    aside is never collected as part of a cycle, so an instance dropped while the server
    runs leaves the few objects of its store opened at start behind until the process ends;
    everything else held at start lives as long as the process anyway."""
    gc.collect()
    gc.freeze()


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


def _check_port_free(host: str, port: int) -> None:
    """Bind the address once before anything else happens, so a busy port is one clear line
    (and a first start does not print credentials for a server that then cannot listen)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise CliError(
                    f"port {port} on {host} is already in use: stop the program holding it "
                    "or choose another with --port"
                ) from err
            raise CliError(f"cannot listen on {host}:{port}: {err.strerror or err}") from err


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
    _check_port_free(settings.host, settings.port)
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
            _settle_heap()
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
