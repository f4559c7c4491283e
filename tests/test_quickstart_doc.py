"""docs/quickstart.md, executed: every shell block runs against a fresh ``officina serve`` and
its documented answer must be the real one, apart from ids, times and secrets.

A ``sh`` block followed directly by a ``json`` or ``text`` block documents that answer; the
block that installs and starts the server is not run (this test starts the server itself) but
its documented output is compared with the server's first lines.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from officina.cli import CREDENTIALS_TAG
from tests.conftest import ROOT
from tests.test_serve_e2e import START_TIMEOUT, _stop, _wait_healthy, free_port

pytestmark = pytest.mark.e2e

DOC = ROOT / "docs" / "quickstart.md"
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)
DOC_BASE = "http://127.0.0.1:8000"


@dataclass
class Block:
    lang: str
    text: str


def blocks() -> list[Block]:
    found = []
    for match in FENCE.finditer(DOC.read_text(encoding="utf-8")):
        indent = len(match.group(1))
        text = "".join(line[indent:] + "\n" for line in match.group(3).splitlines())
        found.append(Block(match.group(2), text))
    return found


@dataclass
class Running:
    port: int
    first_lines: str
    creds: dict[str, str]
    env: dict[str, str]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFICINA_")}
    env["OFFICINA_DATA_DIR"] = str(tmp_path / "officina-data")
    env["OFFICINA_PORT"] = str(port)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["COLUMNS"] = "200"
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "officina", "serve"],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=tmp_path,
        )
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    def pump(stream: IO[str]) -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, args=(proc.stdout,), daemon=True).start()
    try:
        seen: list[str] = []
        while not seen or not seen[-1].startswith(CREDENTIALS_TAG + " "):
            seen.append(lines.get(timeout=START_TIMEOUT))
        creds = json.loads(seen[-1][len(CREDENTIALS_TAG) + 1 :])
        _wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield Running(port, "".join(seen), creds, env)
    finally:
        _stop(proc)


def _hide(text: str, running: Running) -> str:
    """The real output with its secrets and port written as the document writes them."""
    text = text.replace(running.creds["password"], "PASSWORD")
    text = text.replace(running.creds["api_key"], "API_KEY")
    return text.replace(f"127.0.0.1:{running.port}", "127.0.0.1:8000")


def _normal(text: str) -> str:
    """Ids, times and the box's padding never match from one run to the next."""
    text = re.sub(r"\b[0-9A-F]{32}\b", "<id>", text)
    text = re.sub(r"\b1[0-9]{9}\b", "<time>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", "<datetime>", text)
    text = re.sub(r"─+", "─", text)
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines())


def _same(documented: Block, real: str) -> None:
    if documented.lang == "json":
        want = json.dumps(json.loads(documented.text), sort_keys=True, ensure_ascii=False)
        got = json.dumps(json.loads(real), sort_keys=True, ensure_ascii=False)
        assert _normal(got) == _normal(want)
    else:
        assert _normal(real) == _normal(documented.text)


def test_every_block_of_the_quickstart(server: Running) -> None:
    doc = blocks()
    ran = 0
    for n, block in enumerate(doc):
        if block.lang != "sh":
            continue
        answer = doc[n + 1] if n + 1 < len(doc) and doc[n + 1].lang in ("json", "text") else None
        if "officina serve" in block.text:
            assert answer is not None
            _same(answer, _hide(server.first_lines, server))
            continue
        script = block.text.replace("PASSWORD", server.creds["password"])
        script = script.replace("API_KEY", server.creds["api_key"])
        script = script.replace(DOC_BASE, f"http://127.0.0.1:{server.port}")
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            env=server.env,
            cwd=Path(server.env["OFFICINA_DATA_DIR"]).parent,
            timeout=120,
        )
        assert done.returncode == 0, (block.text, done.stdout, done.stderr)
        if answer is not None:
            _same(answer, _hide(done.stdout, server))
        ran += 1
    assert ran >= 8
