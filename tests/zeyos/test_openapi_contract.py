"""The served records-face OpenAPI matches the vendor contract operation for operation."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SHARED

VENDOR = SHARED / "reference" / "zeyos" / "api.json"
METHODS = {"get", "head", "post", "put", "patch", "delete"}
# Codes officina documents beyond the vendor's: 400 on every operation that can reject input
# (the vendor lists it only for accounts) and 410 on the one create that omits it.
EXTRA_CODES = {"400", "410"}


def _operations(doc: dict) -> dict[tuple[str, str], dict]:
    return {
        (path, method): op
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    }


@pytest.fixture
def served(admin) -> dict:
    response = admin.get("/main/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.skipif(not VENDOR.exists(), reason="vendor reference absent")
def test_same_operations_as_vendor(served):
    vendor = _operations(json.loads(VENDOR.read_text()))
    ours = _operations(served)
    assert len(vendor) == 348
    missing = sorted(set(vendor) - set(ours))
    extra = sorted(set(ours) - set(vendor))
    assert not missing, missing
    assert not extra, extra
    for key, vendor_op in vendor.items():
        op = ours[key]
        assert op["operationId"] == vendor_op["operationId"], key
        vendor_codes = set(vendor_op["responses"])
        our_codes = set(op["responses"])
        assert vendor_codes <= our_codes, (key, vendor_codes - our_codes)
        assert our_codes - vendor_codes <= EXTRA_CODES, (key, our_codes - vendor_codes)


def test_served_document_is_self_consistent(served):
    ops = _operations(served)
    assert len(ops) == 348
    refs = {k for k in served["components"]["parameters"]}
    for op in ops.values():
        for param in op.get("parameters", []):
            assert param["$ref"].rsplit("/", 1)[1] in refs
    for path in served["paths"]:
        if "{ID}" in path:
            entity = path.strip("/").split("/")[0]
            assert entity in served["components"]["schemas"]


AUTH_VENDOR = SHARED / "reference" / "zeyos" / "auth.json"


@pytest.mark.skipif(not AUTH_VENDOR.exists(), reason="vendor reference absent")
def test_auth_api_description_matches_vendor_operations(env):
    served = env.client().get("/main/auth/v1/openapi.json")
    assert served.status_code == 200
    ours = _operations(served.json())
    vendor = _operations(json.loads(AUTH_VENDOR.read_text()))
    assert set(ours) == set(vendor)
    for key, op in vendor.items():
        assert set(op["responses"]) <= set(ours[key]["responses"]), key
