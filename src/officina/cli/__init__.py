"""The ``officina`` command: run the server and administer instances, users and API keys.

Every command finds the store the same way the server does: ``--data-dir`` (embedded SQLite)
or ``--database-url`` (PostgreSQL), each falling back to its ``OFFICINA_*`` variable. Bad
input ends the command with a non-zero exit code and one line on stderr.
"""

from __future__ import annotations

# The command modules register their commands on ``app`` when imported, and the help lists
# them in that order: the server first.
# isort: off
from officina.cli import serve
from officina.cli import admin, data, groups

# isort: on
from officina.cli.common import CREDENTIALS_TAG, app
from officina.cli.serve import _app_factory

__all__ = ["CREDENTIALS_TAG", "_app_factory", "admin", "app", "data", "groups", "main", "serve"]


def main() -> None:
    app(prog_name="officina")
