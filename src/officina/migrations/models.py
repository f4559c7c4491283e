"""Everything that lives in an instance store, gathered from core and every face.

Faces add their tables to core's MetaData when their table modules are imported; importing
them here is what lets one Alembic history describe the whole store.
"""

from __future__ import annotations

import officina.core.throttle
import officina.core.translations
import officina.flow.tables
import officina.goana.tables
import officina.zeyos.tables  # noqa: F401 - registers the records face's tables
from officina.core.schema import metadata

target_metadata = metadata
