"""Errors become problems by their type, never by the words of their message."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from pydantic import BaseModel, field_validator
from pydantic_core import PydanticCustomError

from chalicelib.domain.access import AccessError, AlreadyRevokedError
from chalicelib.domain.errors import (
    DuplicateContactError,
    GoneError,
    InvalidFieldError,
    NotFoundError,
    SecretUnavailableError,
    StorageUnavailableError,
)
from chalicelib.domain.policy import PolicyError
from chalicelib.domain.templates import MakerCheckerError, TemplateStateError
from chalicelib.http.models import parse
from chalicelib.http.problems import (
    PROBLEMS,
    InvalidJsonError,
    MethodNotAllowed,
    Problem,
    as_problem,
    problem_response,
    unauthorized,
)
from chalicelib.services.batches import BatchKeyReusedError
from chalicelib.services.calls import InvalidOutcomeError, NotAVoicePermitError, OutcomeAlreadyReportedError
from chalicelib.services.disputes import DisputeResolvedError
from chalicelib.services.exports import ReasonRequiredError
from chalicelib.services.template_contacts import RawMessageRefusedError, TemplateRefusedError
from chalicelib.services.templates import ContentFindingsError


class Note(BaseModel):
    text: str

    @field_validator("text")
    @classmethod
    def _no_braces(cls, value: str) -> str:
        if "{" in value:
            raise PydanticCustomError("braces", "Invalid JSON-like text: no braces in a note")
        return value


def test_a_body_that_is_not_json_is_malformed_json():
    with pytest.raises(InvalidJsonError) as raised:
        parse(Note, b'{"text": ')
    assert (raised.value.status, raised.value.title) == (400, "Malformed JSON")
    assert raised.value.errors[0]["field"] == "body"


def test_a_field_message_that_reads_like_a_json_error_is_still_an_invalid_field():
    with pytest.raises(Problem) as raised:
        parse(Note, json.dumps({"text": "{"}))
    assert not isinstance(raised.value, InvalidJsonError)
    assert raised.value.title == "Invalid request body"
    assert raised.value.errors == [{"field": "text", "message": "Invalid JSON-like text: no braces in a note"}]


def test_the_allow_header_lists_the_routes_methods_whatever_the_detail_says():
    problem = MethodNotAllowed("PUT", ("GET", "POST"))
    problem.detail = "use DELETE"  # the header is not read back from the text
    response = problem_response(problem)
    assert (response.status_code, response.headers["Allow"]) == (405, "GET, POST")
    assert (
        "Allow" not in problem_response(Problem(405, "Method not allowed", "PUT is not allowed here; use GET")).headers
    )


def test_only_a_missing_principal_names_the_bearer_scheme():
    assert problem_response(unauthorized("revoked")).headers["WWW-Authenticate"].startswith("Bearer")
    assert "WWW-Authenticate" not in problem_response(Problem(403, "Forbidden", "Unauthorized")).headers


STATUSES: list[tuple[Exception, int]] = [
    (NotFoundError("c-1"), 404),
    (GoneError("expired"), 410),
    (InvalidOutcomeError("at", "in the future"), 400),
    (InvalidFieldError("cursor", "stale"), 400),
    (AccessError("role", "not issued"), 400),
    (IdempotencyValidationError("payload differs"), 422),
    (BatchKeyReusedError("b-1"), 422),
    (IdempotencyAlreadyInProgressError("in flight"), 409),
    (IdempotencyPersistenceLayerError("down"), 503),
    (AlreadyRevokedError("k_1"), 409),
    (DisputeResolvedError("dp-1"), 409),
    (NotAVoicePermitError("c-1 is an SMS"), 409),
    (OutcomeAlreadyReportedError("already reported as conversation"), 409),
    (DuplicateContactError("c-1"), 409),
    (StorageUnavailableError("throttled"), 503),
    (PolicyError("no bundle"), 503),
    (ReasonRequiredError(), 422),
    (SecretUnavailableError("unreadable"), 503),
    (MakerCheckerError("wrote it"), 403),
    (TemplateStateError("retired"), 409),
    (ContentFindingsError([]), 422),
    (TemplateRefusedError("template.id", "no such template"), 422),
    (RawMessageRefusedError("templates only"), 422),
]


@pytest.mark.parametrize(("error", "status"), STATUSES, ids=lambda v: type(v).__name__)
def test_each_error_type_has_its_status(error, status):
    assert as_problem(error).status == status


def test_every_row_of_the_table_is_checked():
    assert {type(error) for error, _ in STATUSES} == set(PROBLEMS)


def test_a_message_naming_another_error_does_not_change_the_answer():
    assert as_problem(NotFoundError("Gone: Idempotency key reused; use GET")).status == 404
    assert as_problem(RuntimeError("no such object: dependency unavailable")).status == 500


def test_a_subclass_answers_as_its_base_unless_it_has_its_own_row():
    class ExpiredLink(GoneError):
        pass

    assert as_problem(ExpiredLink("the link expired")).status == 410
