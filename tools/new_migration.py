"""Write a new Alembic revision by comparing the code's tables with an up-to-date store.

Usage: python3 tools/new_migration.py "what changed"
It builds a scratch SQLite store at the current head, autogenerates the difference, and
leaves the new file in src/officina/migrations/versions/ for review.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "src" / "officina" / "migrations"


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.sqlite")
        cfg = Config()
        cfg.set_main_option("script_location", str(SCRIPTS))
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
            revision_id = f"{len(list((SCRIPTS / 'versions').glob('*.py'))) + 1:04d}"
            command.revision(cfg, message=argv[1], autogenerate=True, rev_id=revision_id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
