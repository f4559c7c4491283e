"""Request ids, the JSON access log line and metrics of every request (the request pipeline
reports each request here).

The request id comes from the client's ``X-Request-ID`` when it is a short token, otherwise
a new one; it is echoed in the response and attached to every log line written while the
request runs, so one request can be followed through the logs. Query strings and headers are
never logged: they may carry credentials.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import time
from typing import Any, cast

import orjson
from starlette.types import Scope

from officina.core.face import LOCATED, Faces, Located
from officina.ops.metrics import Metrics

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_TOKEN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("officina.access")
_FIXED = frozenset({"/", "/healthz", "/readyz", "/metrics"})


def route_of(path: str, faces: Faces, located: Located | None = None) -> str:
    """The template a path belongs to: instance, face, collection; ids become ``{id}``
    (the faces say which prefixes exist, so the set of templates stays bounded)."""
    if path in _FIXED:
        return path
    return faces.route_label(path, located) or "{unmatched}"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors parse without configuration.

    It runs once per request (the access line), so it is kept cheap: orjson, and the time
    text made once per second."""

    # (second, its text) as one value: threads writing lines may replace it concurrently,
    # and two separate fields could pair one second with another's text.
    _stamp: tuple[int, str] = (-1, "")

    def _time(self, created: float) -> str:
        second = int(created)
        stamp = self._stamp
        if stamp[0] != second:
            stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(second)))
            self._stamp = stamp
        return stamp[1]

    def format(self, record: logging.LogRecord) -> str:
        extra = getattr(record, "access", None)
        return self.line(
            record.created,
            record.levelname.lower(),
            record.name,
            record.process,
            getattr(record, "request_id", REQUEST_ID.get()),
            record.getMessage(),
            extra if isinstance(extra, dict) else None,
            self.formatException(record.exc_info) if record.exc_info else None,
        )

    def line(
        self,
        created: float,
        level: str,
        logger: str,
        pid: int | None,
        request_id: str,
        message: str,
        extra: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> str:
        data: dict[str, Any] = {
            "time": self._time(created),
            "level": level,
            "logger": logger,
            "pid": pid,
            "request_id": request_id,
            "message": message,
        }
        if extra:
            data.update(extra)
        if error is not None:
            data["error"] = error
        return orjson.dumps(data, default=str).decode("utf-8")


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record, not at creation
    (an embedding program or a test runner may swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(level: str) -> None:
    """JSON lines on stderr for officina's own loggers (idempotent)."""
    root = logging.getLogger("officina")
    if any(getattr(h, "officina_json", False) for h in root.handlers):
        return
    handler = _CurrentStderr()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.officina_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper() if level.upper() in logging._nameToLevel else "INFO")
    root.propagate = False


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own lines (start, stop, errors) as the same JSON lines as officina's, so a
    log collector parses the whole stream one way; uvicorn sets the levels itself."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"request_id": {"()": RequestIdFilter}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["json"], "propagate": False},
            "uvicorn.access": {"handlers": ["json"], "propagate": False},
        },
    }


class Observer:
    """What the request pipeline reports to about each request: the request id it runs
    under, then its access line and its metrics."""

    def __init__(self, metrics: Metrics, faces: Faces) -> None:
        self.metrics = metrics
        self.faces = faces

    def begin(self, given_id: bytes) -> tuple[bytes, contextvars.Token[str]]:
        text = given_id.decode("latin-1")
        request_id = text if text and _TOKEN.match(text) else os.urandom(16).hex()
        return request_id.encode(), REQUEST_ID.set(request_id)

    def end(self, token: contextvars.Token[str], scope: Scope, status: int, seconds: float) -> None:
        try:
            method = scope.get("method", "")
            route = route_of(scope.get("path", ""), self.faces, scope.get(LOCATED))
            self.metrics.observe(method, route, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client") or ("", 0)
                _log_access(method, route, status, seconds, client[0])
        finally:
            REQUEST_ID.reset(token)


def _own_handler() -> logging.StreamHandler[Any] | None:
    """officina's JSON handler when it is the only place an access line can go: no handler,
    filter or level of anyone else's is in the way (an embedding program or a test may add
    them, and then the line takes the logging module's whole path)."""
    if access_log.handlers or access_log.filters or not access_log.propagate:
        return None
    parent = access_log.parent
    if parent is None or parent.propagate or parent.filters or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if not isinstance(handler, logging.StreamHandler) or handler.level > logging.INFO:
        return None
    if not getattr(handler, "officina_json", False):
        return None
    formatter = handler.formatter
    if not isinstance(formatter, JsonFormatter) or len(handler.filters) != 1:
        return None
    return handler if isinstance(handler.filters[0], RequestIdFilter) else None


def _log_access(method: str, route: str, status: int, seconds: float, client: str) -> None:
    """The access line of one request: every request writes one, so when officina's own
    handler is its only destination the line is written straight to it, the same bytes the
    logging module would write, without a log record (half the cost of the line)."""
    fields = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "client": client,
    }
    message = f"{method} {route} {status}"
    handler = _own_handler()
    if handler is None:
        record = access_log.makeRecord(
            access_log.name, logging.INFO, __file__, 0, message, (), None, extra={"access": fields}
        )
        access_log.handle(record)
        return
    formatter = cast(JsonFormatter, handler.formatter)
    text = formatter.line(
        time.time(), "info", access_log.name, os.getpid(), REQUEST_ID.get(), message, fields
    )
    handler.acquire()
    try:
        handler.stream.write(text + handler.terminator)
        handler.flush()
    except (OSError, ValueError):  # stderr closed or gone: the line is lost, not the answer
        pass
    finally:
        handler.release()
