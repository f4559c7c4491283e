"""Route parameters shared by the face's operations, and the collector of routes.

Annotated aliases keep each handler signature short and make FastAPI describe the parameters
(ids[] convention, uuid pattern, flags) the same way in every operation of the OpenAPI file.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from starlette.responses import Response

from officina.flow import search
from officina.flow.context import Ctx, biller, reader, writer
from officina.flow.values import UUID_PATTERN

REQUIRED = inspect.Parameter.empty

Reader = Annotated[Ctx, Depends(reader)]
Writer = Annotated[Ctx, Depends(writer)]
Biller = Annotated[Ctx, Depends(biller)]
IdsQuery = Annotated[
    list[str] | None,
    Query(alias="ids[]", description="Repeat once per id: ids[]=A&ids[]=B (bare ids also works)"),
]
Flag = Annotated[str | None, Query(description="1 = on, 0 or absent = off")]
SearchBody = Annotated[dict[str, Any], Body(description="A leaf {ident, value} or and/or/not")]


def path_id(description: str) -> Any:
    return Annotated[str, Path(pattern=UUID_PATTERN, description=description)]


CustomerId = Annotated[str, Path(pattern=UUID_PATTERN, description="UUID of the customer")]
NodeId = Annotated[str, Path(pattern=UUID_PATTERN, description="UUID of a node")]


class Table:
    """Collects the routes; one ``add`` per operation of the route table."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.operation_ids: set[str] = set()

    def add(
        self,
        method: str,
        path: str,
        endpoint: Callable[..., Response],
        summary: str,
        tag: str,
        status: int = 200,
    ) -> None:
        self.app.add_api_route(
            path,
            endpoint,
            methods=[method],
            summary=summary,
            tags=[tag],
            status_code=status,
            response_class=Response,
            operation_id=self._operation_id(endpoint.__name__, method),
        )

    def add_searches(
        self,
        base: str,
        run: Callable[[Ctx, Request, search.Query], Response],
        noun: str,
        tag: str,
        summary: str = "Simple search",
    ) -> None:
        """The search operations every searchable collection offers, in one place: the
        simple search by ident (and value) over GET and POST, and the complex search with a
        body. ``run`` answers a parsed query; ``noun`` names the operations
        (``search_<noun>``, ``search_<noun>_value``, ``complex_search_<noun>``)."""

        def by_ident(
            ctx: Reader, request: Request, ident: str, yieldObjects: Flag = None
        ) -> Response:
            return run(ctx, request, search.leaf(ident, None))

        def by_value(
            ctx: Reader, request: Request, ident: str, value: str, yieldObjects: Flag = None
        ) -> Response:
            return run(ctx, request, search.leaf(ident, value))

        def by_tree(
            ctx: Reader, request: Request, body: SearchBody, yieldObjects: Flag = None
        ) -> Response:
            return run(ctx, request, search.parse(body))

        by_ident.__name__ = f"search_{noun}"
        by_value.__name__ = f"search_{noun}_value"
        by_tree.__name__ = f"complex_search_{noun}"
        for method in ("GET", "POST"):
            self.add(method, f"/{base}/search/{{ident}}", by_ident, summary, tag)
            self.add(method, f"/{base}/search/{{ident}}/{{value:path}}", by_value, summary, tag)
        complex_summary = summary.replace("Simple search", "Complex search")
        self.add("POST", f"/{base}/search", by_tree, complex_summary, tag)

    def _operation_id(self, name: str, method: str) -> str:
        """Unique per operation: an alias route (POST search) gets the method appended."""
        candidate = name if name not in self.operation_ids else f"{name}_{method.lower()}"
        self.operation_ids.add(candidate)
        return candidate
