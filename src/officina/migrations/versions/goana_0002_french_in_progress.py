"""the French name of the status In Progress reads 'En cours'

Revision ID: goana_0002
Revises: goana_0001
Create Date: 2026-12-08 01:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'goana_0002'
down_revision = 'goana_0001'
branch_labels = None
depends_on = None

# Instances made before the seed was corrected carry the misspelt word. Only that exact
# stored value is changed: a name an administrator chose stays as it is.
_names = sa.table(
    "translations",
    sa.column("kind", sa.String), sa.column("owner", sa.Integer),
    sa.column("field", sa.String), sa.column("lang", sa.String),
    sa.column("text", sa.Text), sa.column("norm", sa.Text),
)


def _rename(old: str, new: str) -> None:
    op.execute(
        _names.update()
        .where(
            _names.c.kind == "status", _names.c.owner == 2, _names.c.field == "name",
            _names.c.lang == "fr", _names.c.text == old,
        )
        .values(text=new, norm=new.casefold())
    )


def upgrade() -> None:
    _rename("En course", "En cours")


def downgrade() -> None:
    # The misspelling is not brought back.
    pass
