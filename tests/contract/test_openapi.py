"""The OpenAPI document lists every route the app serves, no more, and is valid OpenAPI 3.1."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.http import Operation, declared, openapi, route


def served_operations() -> set[tuple[str, str]]:
    import app as gateway_app

    # Each route is registered for every method (wrong ones get a 405 problem): the documented
    # methods are the ones the view serves, which chalicelib.http.route records.
    return {(path, method) for path, entry in gateway_app.app.routes.items() for method in openapi_methods(entry)}


def openapi_methods(entry: dict) -> set[str]:
    view = next(iter(entry.values())).view_function
    return set(getattr(view, "allowed_methods", ()))


def app_document() -> dict:
    import app as gateway_app

    return openapi.document("ps-test", declared(gateway_app.app))


def test_every_route_is_documented_and_nothing_else():
    documented = {(path, method.upper()) for path, item in app_document()["paths"].items() for method in item}
    assert served_operations() == documented


def test_a_route_declares_one_operation_for_each_method_it_serves():
    app = Chalice("operations")
    with pytest.raises(ValueError, match="one operation for each method"):
        route(app, "/v1/nothing")
    with pytest.raises(ValueError, match="one operation for each method"):
        route(app, "/v1/twice", Operation("GET", "one"), Operation("GET", "two"))


def test_the_document_is_valid_openapi_3_1_and_uses_the_route_models():
    from openapi_spec_validator import validate

    doc = app_document()
    validate(doc)
    body = doc["paths"]["/v1/contacts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ContactIn"}
    contact = doc["components"]["schemas"]["ContactIn"]
    assert contact["additionalProperties"] is False and {"debtor_id", "channel", "to"} <= set(contact["required"])
    names = {p["name"] for p in doc["paths"]["/v1/audit/events"]["get"]["parameters"]}
    wanted = {"debtor_id", "account_id", "channel", "outcome", "status", "from", "to", "order", "limit", "cursor"}
    assert wanted <= names


def test_the_document_is_served(aws_env, policies):
    import app as gateway_app

    class Stub:
        class policies_:  # noqa: N801 - only the version is read
            version = "ps-served"

        policies = policies_

    with gateway_app.using(cast(Any, Stub())), Client(gateway_app.app) as client:
        response = client.http.get("/v1/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body)["info"]["description"].endswith("ps-served.")


def test_every_route_but_the_public_ones_admits_named_roles_through_the_authorizer():
    import app as gateway_app
    from chalicelib.http import declared_roles

    public = {("/v1/health", "GET"), ("/v1/openapi.json", "GET")}
    public |= {("/v1/unsubscribe/{token}", m) for m in ("GET", "POST")}  # the signed token is the credential
    public |= {("/console", "GET"), ("/console/{asset}", "GET")}  # static files; the page asks for a key
    declared = declared_roles(gateway_app.app)
    assert {op for op, roles in declared.items() if not roles} == public
    for path, entries in gateway_app.app.routes.items():
        for method, entry in entries.items():
            protected = any(declared.get((path, m)) for m in entry.view_function.allowed_methods)  # type: ignore[attr-defined]
            assert (entry.authorizer is not None) == protected, (path, method)


def test_the_document_names_each_operations_roles_and_its_401_and_403():
    doc = app_document()
    submit = doc["paths"]["/v1/contacts"]["post"]
    assert submit["x-roles"] == ["submitter"] and submit["security"] == [{"apiKey": []}]
    assert {"401", "403"} <= set(submit["responses"])
    health = doc["paths"]["/v1/health"]["get"]
    assert health["security"] == [] and "401" not in health["responses"]
    assert doc["paths"]["/v1/exports/{export_id}"]["get"]["x-roles"] == ["compliance", "regulator"]
