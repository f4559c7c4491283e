"""The face kit: what a face declares so the one request pipeline can serve it.

A face is one wire dialect mounted below ``/{instance}``: its path prefix, how its errors
look (its :class:`Dialect`), which kind each of its routes is, and the routes themselves. The
pipeline (``core.pipeline``) reads only these declarations: nothing in the kernel, in
``app.py`` or in ``ops`` knows a face's path text, so a path that merely *contains* another
face's words (``/main/goana/api/v1/jobs/x/oauth2/v1/token``) is judged by the face that
actually owns it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from starlette.responses import Response
from starlette.routing import BaseRoute

from officina.core.auth import AuthFailure


class Kind(enum.Enum):
    """What a route does with credentials, which decides the pipeline's steps for it."""

    # Credentials are required: checked before the body is read; a cookie session must come
    # from the server's own origin for a change.
    USER = "user"
    # Served without credentials, or with credentials inside the body (sign-in forms, the
    # OAuth pages with their own CSRF keys, the API descriptions).
    PUBLIC = "public"
    # Client-authenticated OAuth endpoint: Basic credentials name a client application, not
    # a person, so they are never counted as a sign-in attempt.
    OAUTH_CLIENT = "oauth-client"


class Dialect(Protocol):
    """How a face's failures look on the wire."""

    def error(
        self,
        status: int,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        head: bool = False,
    ) -> Response:
        """The face's answer with ``status`` (400, 403, 404, 405, 409, 412, 413, 429,
        500...); ``message`` None: the face's own wording for that status."""
        ...

    def unauthorized(self, instance: str, failure: AuthFailure, *, head: bool = False) -> Response:
        """The face's 401, with its ``WWW-Authenticate`` challenge."""
        ...

    def too_large(self, limit: int, *, head: bool = False) -> Response:
        """The face's 413 for a body over ``limit`` bytes."""
        ...


@dataclass(frozen=True)
class KindRule:
    """One route's kind, by its path template below the face's prefix (``/token``,
    ``/items/{id}``); a trailing slash is the same route."""

    path: str
    kind: Kind
    pattern: re.Pattern[str] = field(init=False, compare=False)

    @property
    def literal(self) -> bool:
        return "{" not in self.path

    def __post_init__(self) -> None:
        regex = ""
        for segment in self.path.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                regex += "/[^/]+"
            elif segment:
                regex += "/" + re.escape(segment)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}/?$"))


@dataclass(frozen=True)
class Face:
    """One dialect's declaration. ``prefix`` is the path below ``/{instance}`` it owns
    (``/api/v1``); ``routes`` builds its routes, paths including ``/{instance}``."""

    name: str
    prefix: str
    dialect: Dialect
    routes: Callable[[], Sequence[BaseRoute]]
    default_kind: Kind = Kind.USER
    kinds: tuple[KindRule, ...] = ()
    # Path of the OpenAPI document the server's start-up message lists, below the prefix.
    description: str | None = None

    def owns(self, rest: str) -> bool:
        """Whether ``rest`` (the path after the instance segment) is this face's."""
        prefix = self.prefix
        return rest.startswith(prefix) and (len(rest) == len(prefix) or rest[len(prefix)] == "/")

    def kind_of(self, rest: str) -> Kind:
        if not self.kinds:
            return self.default_kind
        below = rest[len(self.prefix) :]
        for rule in self.kinds:
            if rule.literal:
                if below == rule.path or below == rule.path + "/":
                    return rule.kind
            elif rule.pattern.match(below):
                return rule.kind
        return self.default_kind


# Scope key under which the request pipeline leaves the face it found for the path.
LOCATED = "officina.located"


class Located(NamedTuple):
    """The face a path belongs to, its instance segment and its route's kind."""

    face: Face
    instance: str
    kind: Kind


class Faces:
    """Every face the server speaks, found by the prefix right after the instance."""

    def __init__(self, faces: Sequence[Face]) -> None:
        self.all = tuple(faces)

    def locate(self, path: str) -> Located | None:
        if not path.startswith("/"):
            return None
        cut = path.find("/", 1)
        if cut < 0:
            return None
        rest = path[cut:]
        for face in self.all:
            if face.owns(rest):
                return Located(face, path[1:cut], face.kind_of(rest))
        return None

    def routes(self) -> list[BaseRoute]:
        return [route for face in self.all for route in face.routes()]

    def route_label(self, path: str, located: Located | None = None) -> str | None:
        """The template a path of a face belongs to, for metrics and the access log:
        instance, face prefix, first segment when it is a name, ``{id}`` for the rest
        (``located``: the path's face when already found)."""
        located = located or self.locate(path)
        if located is None:
            return None
        prefix = located.face.prefix
        rest = path[len(located.instance) + 1 :]
        tail = [p for p in rest[len(prefix) :].split("/") if p]
        if not tail:
            return "/{instance}" + prefix
        shown = tail[0] if _NAME.fullmatch(tail[0]) else "{id}"
        more = "/{id}" if len(tail) > 1 else ""
        return "/{instance}" + prefix + "/" + shown + more


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,40}")
