"""The anchor of R1: the same server stack (uvicorn + Starlette) answering a JSON object with
no database, no authentication and no routing beyond one path."""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = orjson.dumps({"ID": 1, "lastname": "Company 0000001", "currency": "CHF", "type": 0})


async def account(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/main/api/v1/accounts/{id}", account)])
