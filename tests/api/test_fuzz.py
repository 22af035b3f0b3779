"""Schemathesis against /openapi.json, authenticated with a role each operation admits: no input, valid or
not, may produce a 5xx answer. (`LFR_FUZZ_EXAMPLES=200 scripts/test tests/api/test_fuzz.py` for a long run.)"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from openlfr.api.permissions import POLICY, app_routes
from openlfr.auth.roles import Role
from tests.api.conftest import Api, build_api, make_settings

EXAMPLES = int(os.environ.get("LFR_FUZZ_EXAMPLES", "12"))
# Who calls: the first of these roles that the operation admits (so requests get past authorisation).
PREFERENCE = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)


@pytest.fixture
def fuzz_api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(make_settings(tmp_path, alert_stream_max_s=0.05))


@pytest.mark.slow
def test_no_server_errors(fuzz_api: Api) -> None:
    tokens = {role: fuzz_api.token(role, name=f"fuzz-{role.value}") for role in Role}
    roles: dict[tuple[str, str], Role] = {}
    for entry in app_routes(fuzz_api.app):
        allowed = POLICY[entry.permission]
        for method in entry.methods:
            roles[(method.upper(), entry.path)] = next(r for r in PREFERENCE if r in allowed)
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", fuzz_api.app, headers={"Authorization": f"Bearer {tokens[Role.ADMIN]}"}
    )
    failures: list[tuple[str, str, int, str]] = []
    seen: Counter[int] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        role = roles[(operation.method.upper(), operation.path)]
        headers = {"Authorization": f"Bearer {tokens[role]}"}

        _fuzz(operation, headers, failures, seen)()
        operations += 1
    assert operations >= 30  # every documented operation was fuzzed
    assert failures == []
    # Authenticated and authorised: plenty of requests got through to the routes themselves.
    assert seen[200] >= 50 and seen[400] > 0 and not seen[500], seen


def _fuzz(
    operation: Any, headers: dict[str, str], failures: list[tuple[str, str, int, str]], seen: Counter[int]
) -> Any:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        seen[response.status_code // 100 * 100] += 1
        if response.status_code >= 500:
            failures.append((case.method, case.formatted_path, response.status_code, response.text[:300]))

    return call
