"""schemathesis against the local stack: generated requests for every operation of the served OpenAPI
document. No answer may be a 5xx, and every answer must match the document (status, content type,
schema). A bounded number of examples per operation keeps it to seconds.

(schemathesis's own pytest plugin does not run under pytest 9 here, so each operation's strategy is
driven with hypothesis directly: the same generation and the same checks.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from chalicelib.http import routing
from tools.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]
EXAMPLES = 6  # per operation: every operation is still driven, each with its own generated cases
# What the document promises. Not `positive_data_acceptance`: a schema-valid body can still break a
# rule across fields (an sms `to` must be E.164, an email `to` an address) and is rightly a 400.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def checker(operation: Any, url: str, headers: dict[str, str], statuses: set[int]) -> Callable[[], None]:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)
        statuses.add(response.status_code)

    return check


def test_generated_requests_get_documented_answers_and_never_a_server_error(stack: LocalStack) -> None:
    schema = schemathesis.openapi.from_url(f"{stack.url}/v1/openapi.json")
    results = list(schema.get_all_operations())
    operations = [r.ok() for r in results if r.ok() is not None]
    served = {tuple(o.label.split(" ", 1)[::-1]) for o in operations}
    # schemathesis leaves out the operation that serves the document it was loaded from
    import app  # the routes the app declares, read where they are registered

    declared = {(d.path, d.operation.method) for d in routing.declared(app.app)}
    assert served == declared - {("/v1/openapi.json", "GET")}, declared ^ served
    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        # Each operation is driven with a key of a role it admits, so the fuzzing reaches the route's
        # own parsing; what a missing or wrong key gets is tested in test_access.py.
        roles = operation.definition.raw.get("x-roles") or []
        headers = {"Authorization": f"Bearer {stack.dev_keys['keys'][roles[0]]}"} if roles else {}

        check = checker(operation, stack.url, headers, statuses.setdefault(operation.label, set()))
        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - gather every operation's failure
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
    # the keys were accepted: every operation answered something past the authorizer
    assert not [label for label, seen in statuses.items() if seen <= {401, 403}], statuses
