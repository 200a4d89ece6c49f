"""DynamoDB: message templates, one partition per tenant (docs/decisions/0033).

``pk`` = tenant; ``sk`` = ``t#<template_id>`` (the template) or ``t#<template_id>#v#000001`` (a version),
so one Query reads a template with its versions in order, and one lists the tenant's. A version's text,
subject and variables are in ``doc``, written once; its ``status`` and who moved it, when, are attributes
of their own, changed only on the condition that the status is still the one read.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.errors import storage_errors

MUTABLE = ("status", "approved_by", "approved_at", "retired_by", "retired_at")


def _header_key(template_id: str) -> str:
    return f"t#{template_id}"


def _version_key(template_id: str, number: int) -> str:
    return f"t#{template_id}#v#{number:06d}"


def _document(raw: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(raw["doc"]["S"])
    document.update({name: raw[name]["S"] for name in MUTABLE if name in raw})
    return document


class DynamoDBTemplates:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def _put_new(self, tenant: str, sk: str, document: dict[str, Any], status: str | None = None) -> None:
        item = {"pk": {"S": tenant}, "sk": {"S": sk}, "doc": {"S": json.dumps(document, ensure_ascii=False)}}
        if status is not None:
            item["status"] = {"S": status}
        with storage_errors():  # ConflictError: the id or the version number is taken
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(sk)")

    def _query(self, tenant: str, prefix: str) -> list[dict[str, Any]]:
        query = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": tenant}, ":prefix": {"S": prefix}},
            "ConsistentRead": True,
        }
        with storage_errors():
            return [item for page in self._client.get_paginator("query").paginate(**query) for item in page["Items"]]

    def create(self, tenant: str, template: dict[str, Any]) -> None:
        doc = {k: v for k, v in template.items() if k != "versions"}
        self._put_new(tenant, _header_key(template["template_id"]), doc)

    def add_version(self, tenant: str, template_id: str, version: dict[str, Any]) -> None:
        doc = {k: v for k, v in version.items() if k not in MUTABLE}
        self._put_new(tenant, _version_key(template_id, version["version"]), doc, version["status"])

    def templates(self, tenant: str) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for raw in self._query(tenant, "t#"):
            document, sk = _document(raw), raw["sk"]["S"]
            entry = found.setdefault(sk[2:].split("#v#")[0], {"versions": []})
            if "#v#" not in sk:
                entry.update(document)
                continue
            entry["versions"].append({k: v for k, v in document.items() if k not in ("text", "subject", "variables")})
        return [t for t in found.values() if "name" in t]

    def get(self, tenant: str, template_id: str) -> dict[str, Any] | None:
        items = self._query(tenant, _header_key(template_id))
        header = next((i for i in items if i["sk"]["S"] == _header_key(template_id)), None)
        if header is None:
            return None
        versions = [_document(i) for i in items if i["sk"]["S"].startswith(_header_key(template_id) + "#v#")]
        return {**_document(header), "versions": versions}

    def _get(self, tenant: str, sk: str) -> dict[str, Any] | None:
        with storage_errors():
            item = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": tenant}, "sk": {"S": sk}}, ConsistentRead=True
            ).get("Item")
        return _document(item) if item else None

    def header(self, tenant: str, template_id: str) -> dict[str, Any] | None:
        return self._get(tenant, _header_key(template_id))

    def version(self, tenant: str, template_id: str, number: int) -> dict[str, Any] | None:
        return self._get(tenant, _version_key(template_id, number))

    def newest_approved(self, tenant: str, template_id: str, locale: str) -> dict[str, Any] | None:
        """Newest first, approved only (filtered by DynamoDB); the first in ``locale`` ends the reading."""
        query = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "FilterExpression": "#status = :approved",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":pk": {"S": tenant},
                ":prefix": {"S": _header_key(template_id) + "#v#"},
                ":approved": {"S": "approved"},
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        with storage_errors():
            for page in self._client.get_paginator("query").paginate(**query):
                found = next((d for d in map(_document, page["Items"]) if d["locale"] == locale), None)
                if found is not None:
                    return found
        return None

    def set_status(self, tenant: str, template_id: str, number: int, expected: str, changes: dict[str, Any]) -> None:
        """``changes``: attributes to set; one whose value is None is removed."""
        names = {f"#{k}": k for k in changes}
        values = {f":{k}": {"S": str(v)} for k, v in changes.items() if v is not None}
        expression = "SET " + ", ".join(f"#{k} = :{k}" for k, v in changes.items() if v is not None)
        removed = [f"#{k}" for k, v in changes.items() if v is None]
        if removed:
            expression += " REMOVE " + ", ".join(removed)
        with storage_errors():  # ConflictError: another step moved it first
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": tenant}, "sk": {"S": _version_key(template_id, number)}},
                UpdateExpression=expression,
                ConditionExpression="#status = :expected",
                ExpressionAttributeNames={**names, "#status": "status"},
                ExpressionAttributeValues={**values, ":expected": {"S": expected}},
            )
