"""The base of every request body model: absent, ``null`` and unknown properties.

Flow bodies distinguish "not sent" (keep / use the default) from ``null`` (clear), so models
declare every property optional and the handlers read ``model_fields_set``. A ``null`` for a
property that cannot be null is refused here, naming the property. Unknown properties — and
the response-only ones a client echoes back after a GET — are ignored, because a real Flow
client may send properties the published description lost.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationInfo, field_validator

from officina.flow.values import fail

SortOrder = Annotated[int, Strict(), Field(ge=0, le=2**31 - 1)]


class Body(BaseModel):
    """All properties optional; ``NULLABLE`` lists those that accept an explicit ``null``."""

    model_config = ConfigDict(extra="ignore")

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise fail("must not be null")
        return value

    def given(self, name: str) -> bool:
        """Whether the client sent ``name`` (possibly as ``null``)."""
        return name in self.model_fields_set

    def sent(self) -> dict[str, Any]:
        """The properties the client sent, by name, with their validated values."""
        return {name: getattr(self, name) for name in self.model_fields_set}
