"""Write a new Alembic revision by comparing the code's tables with an up-to-date store.

Usage:
  python3 tools/new_migration.py "what changed" [--rev-id ID] [--branch-from REV]
                                                [--only PREFIX[,...]] [--exclude PREFIX[,...]]

It builds a scratch SQLite store at the current heads, autogenerates the difference and leaves
the new file in src/officina/migrations/versions/ for review. A face adding its own tables uses
``--branch-from`` (the revision its branch starts at) and ``--only`` (its table-name prefixes),
so two faces can add tables independently.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "src" / "officina" / "migrations"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("message")
    parser.add_argument("--rev-id")
    parser.add_argument("--branch-from")
    parser.add_argument("--only")
    parser.add_argument("--exclude")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.sqlite")
        cfg = Config()
        cfg.set_main_option("script_location", str(SCRIPTS))
        if args.only:
            cfg.attributes["only_prefixes"] = tuple(p for p in args.only.split(",") if p)
        if args.exclude:
            cfg.attributes["exclude_prefixes"] = tuple(p for p in args.exclude.split(",") if p)
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            # Compare against the newest schema of every branch; the new revision then hangs
            # below --branch-from (required once the history has several heads).
            command.upgrade(cfg, "heads")
            conn.commit()
            command.revision(
                cfg,
                message=args.message,
                autogenerate=True,
                rev_id=args.rev_id,
                head=args.branch_from or "head",
                splice=bool(args.branch_from),
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
