"""The served OpenAPI document lists every route of the face and is a valid 3.0 document."""

from __future__ import annotations

from officina.goana.face import route_table
from tests.conftest import Env
from tests.goana.helpers import BASE, client


def test_openapi_is_public_and_lists_every_route(env: Env) -> None:
    r = client(env).get(f"{BASE}/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.0")
    served = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    expected = {
        (route.method, route.path.replace(":path}", "}"))
        for route in route_table()
        if route.codes != (405,)
    }
    assert served == expected
    assert ("GET", "/jobs") in served and ("POST", "/jobs/{key}/status") in served
    job = doc["components"]["schemas"]["Job"]["properties"]
    assert job["Status"]["readOnly"] is True and job["Key"]["maxLength"] == 200
    for path, ops in doc["paths"].items():
        for op in ops.values():
            for code, response in op["responses"].items():
                if int(code) >= 400:
                    assert "application/problem+json" in response["content"], (path, code)
    refs = {
        part.split("/")[-1]
        for part in r.text.replace('"', " ").split()
        if part.startswith("#/components/schemas/")
    }
    assert refs <= set(doc["components"]["schemas"])
