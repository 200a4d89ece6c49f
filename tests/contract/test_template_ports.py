"""The template store: one suite, run against the fake and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters.templates import DynamoDBTemplates
from chalicelib.domain.errors import ConflictError
from tests.contract.support import dynamodb_tables
from tests.fakes import InMemoryTemplates


@pytest.fixture(params=["memory", "dynamodb"])
def store(request, aws_env) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemoryTemplates()
        return
    with dynamodb_tables() as (settings, clients):
        yield DynamoDBTemplates(clients.dynamodb, settings.templates_table)


def template(template_id: str = "tpl_1", **fields: Any) -> dict[str, Any]:
    return {
        "template_id": template_id,
        "name": "Reminder",
        "channel": "sms",
        "created_at": "2026-03-02T17:00:00+00:00",
        **fields,
    }


def version(number: int, status: str = "draft", **fields: Any) -> dict[str, Any]:
    return {
        "version": number,
        "locale": "en",
        "text": f"Text {number}: pay {{{{ amount }}}}",
        "subject": None,
        "variables": {"amount": "amount"},
        "status": status,
        "created_by": "k_a",
        "created_at": "2026-03-02T17:00:00+00:00",
        **fields,
    }


def test_a_template_reads_back_with_its_versions_in_order(store):
    store.create("t", template())
    for number in (1, 2, 3):
        store.add_version("t", "tpl_1", version(number))
    found = store.get("t", "tpl_1")
    assert found["name"] == "Reminder"
    assert [v["version"] for v in found["versions"]] == [1, 2, 3]
    assert found["versions"][1]["text"] == "Text 2: pay {{ amount }}"
    assert found["versions"][0]["variables"] == {"amount": "amount"}


def test_an_id_or_a_version_number_is_taken_once(store):
    store.create("t", template())
    with pytest.raises(ConflictError):
        store.create("t", template(name="Other"))
    store.add_version("t", "tpl_1", version(1))
    with pytest.raises(ConflictError):
        store.add_version("t", "tpl_1", version(1, text="changed"))
    assert store.get("t", "tpl_1")["versions"][0]["text"] == "Text 1: pay {{ amount }}"


def test_a_status_changes_only_from_the_status_read(store):
    store.create("t", template())
    store.add_version("t", "tpl_1", version(1))
    store.set_status("t", "tpl_1", 1, "draft", {"status": "approved", "approved_by": "k_b"})
    with pytest.raises(ConflictError):
        store.set_status("t", "tpl_1", 1, "draft", {"status": "retired"})
    found = store.get("t", "tpl_1")["versions"][0]
    assert (found["status"], found["approved_by"], found["text"]) == ("approved", "k_b", "Text 1: pay {{ amount }}")
    store.set_status("t", "tpl_1", 1, "approved", {"status": "draft", "approved_by": None})  # put back
    found = store.get("t", "tpl_1")["versions"][0]
    assert found["status"] == "draft" and "approved_by" not in found


def test_a_tenant_lists_only_its_own_templates_with_summaries_of_their_versions(store):
    store.create("t", template("tpl_1"))
    store.create("t", template("tpl_2", name="Second"))
    store.create("other", template("tpl_3"))
    store.add_version("t", "tpl_2", version(1))
    listed = sorted(store.templates("t"), key=lambda t: t["template_id"])
    assert [t["template_id"] for t in listed] == ["tpl_1", "tpl_2"]
    assert listed[0]["versions"] == []
    assert listed[1]["versions"][0]["status"] == "draft" and "text" not in listed[1]["versions"][0]
    assert store.get("other", "tpl_1") is None and store.get("t", "tpl_3") is None


def test_a_contact_reads_the_template_and_one_version_by_key_or_the_newest_approved_in_its_locale(store):
    store.create("t", template())
    for number, locale in enumerate(("en", "es", "en", "en"), start=1):
        store.add_version("t", "tpl_1", version(number, locale=locale))
    for number in (1, 2, 3):
        store.set_status("t", "tpl_1", number, "draft", {"status": "approved"})
    assert store.header("t", "tpl_1")["name"] == "Reminder" and "versions" not in store.header("t", "tpl_1")
    assert store.version("t", "tpl_1", 4)["status"] == "draft"
    assert store.newest_approved("t", "tpl_1", "en")["version"] == 3  # 4 is a draft
    assert store.newest_approved("t", "tpl_1", "es")["version"] == 2
    assert store.newest_approved("t", "tpl_1", "zh-CN") is None
    assert store.header("t", "tpl_9") is None and store.version("t", "tpl_1", 9) is None
    assert store.header("other", "tpl_1") is None and store.newest_approved("other", "tpl_1", "en") is None
