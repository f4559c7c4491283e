"""The access line written straight to officina's own handler is the line the logging module
would write; any other handler, filter or propagation in the way sends it the long way."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from officina.ops import requests
from officina.ops.requests import REQUEST_ID, JsonFormatter, RequestIdFilter, access_log

ROUTE = "/{instance}/api/v1/accounts/{id}"


def _own_logging(monkeypatch: pytest.MonkeyPatch) -> logging.Handler:
    """officina's logging as ``configure_logging`` leaves it, whatever the test run did
    (pytest adds handlers of its own while a test runs, so this is done in the test)."""
    handler = requests._CurrentStderr()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.officina_json = True  # type: ignore[attr-defined]
    parent = logging.getLogger("officina")
    monkeypatch.setattr(parent, "handlers", [handler])
    monkeypatch.setattr(parent, "filters", [])
    monkeypatch.setattr(parent, "propagate", False)
    monkeypatch.setattr(parent, "level", logging.INFO)
    monkeypatch.setattr(access_log, "handlers", [])
    monkeypatch.setattr(access_log, "filters", [])
    monkeypatch.setattr(access_log, "propagate", True)
    monkeypatch.setattr(access_log, "level", logging.NOTSET)
    access_log.manager._clear_cache()
    return handler


def _line(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    token = REQUEST_ID.set("trace-access-1")
    try:
        requests._log_access("GET", ROUTE, 200, 0.0123, "10.0.0.7")
    finally:
        REQUEST_ID.reset(token)
    written = capsys.readouterr().err.splitlines()
    assert len(written) == 1
    return dict(json.loads(written[0]))


def test_direct_line_equals_the_logging_modules_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    own_handler = _own_logging(monkeypatch)
    assert requests._own_handler() is own_handler
    direct = _line(capsys)
    monkeypatch.setattr(access_log, "filters", [lambda record: True])
    assert requests._own_handler() is None
    logged = _line(capsys)
    assert list(direct) == list(logged)
    direct.pop("time")
    logged.pop("time")
    assert direct == logged
    assert direct["request_id"] == "trace-access-1"
    assert direct["message"] == f"GET {ROUTE} 200"
    assert direct["duration_ms"] == 12.3 and direct["client"] == "10.0.0.7"


def test_other_destinations_take_the_long_way(monkeypatch: pytest.MonkeyPatch) -> None:
    own_handler = _own_logging(monkeypatch)
    assert requests._own_handler() is own_handler
    parent = logging.getLogger("officina")
    monkeypatch.setattr(parent, "propagate", True)
    assert requests._own_handler() is None
    monkeypatch.setattr(parent, "propagate", False)
    monkeypatch.setattr(access_log, "handlers", [logging.NullHandler()])
    assert requests._own_handler() is None
    monkeypatch.setattr(access_log, "handlers", [])
    monkeypatch.setattr(own_handler, "level", logging.WARNING)
    assert requests._own_handler() is None
