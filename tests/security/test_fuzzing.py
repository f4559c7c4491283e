"""Property-based API fuzzing of every face against the OpenAPI document it serves.

Each operation gets generated requests (authenticated as an administrator of an instance of
its own, so destructive calls touch nothing else); every answer must be no 5xx, carry a
documented status code and content type, and match the documented schema and headers.
``OFFICINA_FUZZ_EXAMPLES`` raises the number of examples per operation for longer runs.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import openapi
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from officina.core.bootstrap import create_instance
from tests.conftest import Env, basic, unique

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Examples per operation in CI, about 40 seconds per store: the records face has 348
# operations, the others few.
FACES = {"api/v1": 6, "auth/v1": 25, "oauth2/v1": 25, "flow/api/v1": 10, "goana/api/v1": 25}


def _examples(face: str) -> int:
    wanted = os.environ.get("OFFICINA_FUZZ_EXAMPLES")
    return int(wanted) if wanted else FACES[face]


def _fuzz(
    operation: Any,
    examples: int,
    auth: dict[str, str],
    base: str,
    failures: Counter[tuple[str, str]],
    samples: dict[tuple[str, str], str],
) -> int:
    """Run generated requests against one operation, collecting every kind of failure;
    returns how many requests were sent."""
    sent = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("OFFICINA_FUZZ_EXAMPLES"),
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    def run(case: Any) -> None:
        nonlocal sent
        response = case.call(headers=auth, base_url=base)
        sent += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as failure:  # a group of schemathesis failures
            for kind in getattr(failure, "exceptions", [failure]):
                key = (operation.label, type(kind).__name__)
                failures[key] += 1
                samples.setdefault(key, f"{response.status_code} {response.text[:200]}")

    run()
    return sent


@pytest.mark.parametrize("face", list(FACES))
def test_face_conforms_to_its_openapi(env: Env, face: str) -> None:
    instance = unique("fuzz")
    creds = create_instance(env.instances, instance, "fuzz@example.com", "fuzz-pass-123")
    auth = basic("api", creds.api_key)
    schema = openapi.from_asgi(f"/{instance}/{face}/openapi.json", env.app)
    base = f"https://testserver/{instance}/{face}"
    failures: Counter[tuple[str, str]] = Counter()
    samples: dict[tuple[str, str], str] = {}
    operations = requests = 0
    for result in schema.get_all_operations():
        operations += 1
        requests += _fuzz(result.ok(), _examples(face), auth, base, failures, samples)
    # Shown with `pytest -rP`: the size of the run, for reports of longer runs.
    print(f"{env.kind} {face}: {operations} operations, {requests} requests")
    assert operations > 0
    assert not failures, [(key, n, samples[key]) for key, n in failures.items()]
