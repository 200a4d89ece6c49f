"""Compliance-aware contact gateway: routes and schedules. Each parses, calls one use case, responds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import AuthResponse, Chalice, Cron, Rate, Response
from chalice.app import AuthRequest

from chalicelib import api, console, observability, openapi, resources, telemetry
from chalicelib.adapters.errors import storage_errors
from chalicelib.bootstrap import Gateway, bootstrap
from chalicelib.domain.access import Role
from chalicelib.domain.errors import StorageUnavailableError
from chalicelib.domain.model import Channel
from chalicelib.entrypoints import audit_appender, queues, topics
from chalicelib.http import MAX_BATCH_BODY_BYTES, caller, current_request, declared_roles, json_response, route
from chalicelib.idempotency import make_idempotent
from chalicelib.services import (
    audit_read,
    batches,
    calls,
    consent,
    contacts,
    dispatch,
    disputes,
    exports,
    ids,
    keys,
    maintenance,
    tenant_settings,
    unsubscribe,
)
from chalicelib.settings import ledger_stream_arn

app = Chalice(app_name="contact-gateway")
app.register_middleware(observability.http_middleware, "http")
app.register_middleware(
    telemetry.trace_middleware(lambda: app.lambda_context.function_name if app.lambda_context else "local"), "all"
)

_gateway: Gateway | None = None
_submit_once: Any = None
_idempotency_config: Any = None


def gateway() -> Gateway:
    """Built on first use, then kept for the life of the function instance."""
    global _gateway
    if _gateway is None:
        _gateway = bootstrap()
    return _gateway


def now() -> datetime:
    """The route clock: the real time, or the local stack's chosen one (GATEWAY_CLOCK_AT)."""
    return api.utcnow() + gateway().settings.clock_offset


# API Gateway may answer from a cached authorizer result for this long: a revoked key can work for at
# most this many seconds in AWS (chalice local caches nothing). The result allows every route ("*") and
# names the principal; each route checks the role itself, so a cached answer is right for any route.
AUTH_CACHE_SECONDS = 30

SUBMITTER, COMPLIANCE, REGULATOR, ADMIN = Role.SUBMITTER, Role.COMPLIANCE, Role.REGULATOR, Role.ADMIN


@app.authorizer(ttl_seconds=AUTH_CACHE_SECONDS)
def bearer_auth(auth_request: AuthRequest) -> AuthResponse:
    """``Authorization: Bearer <key>`` -> tenant, role, agency; or why there is no principal."""
    try:
        found = keys.authenticate(gateway().keys, auth_request.token or "")
    except StorageUnavailableError:
        return AuthResponse(routes=["*"], principal_id="unavailable", context={"status": "unavailable"})
    if isinstance(found, str):
        return AuthResponse(routes=["*"], principal_id="anonymous", context={"status": found})
    context = {"status": "ok", "tenant": found.tenant, "role": found.role.value, "key_id": found.key_id}
    return AuthResponse(routes=["*"], principal_id=found.key_id, context={**context, "agency": found.agency or ""})


def secured(path: str, *methods: str, roles: tuple[Role, ...], **kwargs: Any) -> Any:
    """A route only keys of ``roles`` may use; the caller's tenant scopes everything it reads or writes."""
    return route(app, path, *methods, roles=roles, authorizer=bearer_auth, **kwargs)


def _submit(payload: dict[str, Any]) -> dict[str, Any]:
    g = gateway()
    tenant, agency = payload["tenant"], payload.get("agency") or None
    body = api.ContactIn.model_validate(payload["body"], strict=False)
    request = body.to_domain(tenant, agency, payload.get("submitted_by"))
    key = payload.get("key")
    contact_id = ids.contact_id_for_key(tenant, request.debtor_id, key, agency) if key else None
    result = contacts.submit_contact(request, g.deps, now(), contact_id=contact_id)
    assert result is not None
    status = 200 if request.channel is Channel.VOICE else 202
    return {"status": status, "body": result.to_json()}


def submit_idempotently(payload: dict[str, Any]) -> dict[str, Any]:
    global _submit_once, _idempotency_config
    if _submit_once is None:
        g = gateway()
        _submit_once, _idempotency_config = make_idempotent(_submit, g.clients.dynamodb, g.settings.idempotency_table)
    if app.lambda_context is not None:
        _idempotency_config.register_lambda_context(app.lambda_context)
    return dict(_submit_once(payload=payload))


@route(app, "/v1/health", "GET")
def health() -> Response:
    g = gateway()
    with storage_errors():  # unreachable or missing table: 503, not 500
        g.clients.dynamodb.describe_table(TableName=g.settings.ledger_table)
    return json_response(200, {"status": "ok", "policy_version": g.policies.version})


@route(app, "/v1/openapi.json", "GET")
def openapi_document() -> Response:
    """The API's OpenAPI 3.1 document, from the same models the routes parse with."""
    return json_response(200, openapi.document(gateway().policies.version, declared_roles(app)))


@secured("/v1/contacts", "POST", roles=(SUBMITTER,))
def submit() -> Response:
    request, who = current_request(app), caller(current_request(app))
    parsed = api.parse(api.ContactIn, request.raw_body)
    payload = {"tenant": who.tenant, "agency": who.agency, "route": "contacts", "body": parsed.model_dump(mode="json")}
    payload["submitted_by"] = who.key_id  # not part of the idempotency key: a replay by another key is a replay
    key = request.headers.get("idempotency-key")
    if key:
        outcome = submit_idempotently({**payload, "key": key})
    else:
        outcome = _submit(payload)
    return json_response(outcome["status"], outcome["body"])


@secured("/v1/contacts/batch", "POST", roles=(SUBMITTER,), max_body=MAX_BATCH_BODY_BYTES)
def submit_batch() -> Response:
    """Up to 500 requests, validated together, queued on SQS, decided one by one by the batch worker."""
    request, g = current_request(app), gateway()
    who = caller(request)
    valid, rejected, _accept_valid = api.parse_batch(request.raw_body)
    body = batches.accept(
        who,
        valid,
        g.batch_deps,
        now(),
        idempotency_key=request.headers.get("idempotency-key"),
        rejected=rejected,
    )
    if rejected:
        body["rejected"] = rejected
    return json_response(202, body, headers={"Location": f"/v1/contacts/batch/{body['batch_id']}"})


@secured("/v1/contacts/batch/{batch_id}", "GET", roles=(SUBMITTER, COMPLIANCE))
def batch_status(batch_id: str) -> Response:
    batch_id, who = api.safe_id("batch_id", batch_id), caller(current_request(app))
    body = batches.status(who.tenant, batch_id, gateway().batch_deps, now(), agency=who.agency)
    return json_response(200, body)


@secured("/v1/contacts/evaluate", "POST", roles=(SUBMITTER, COMPLIANCE))
def evaluate() -> Response:
    who = caller(current_request(app))
    parsed = api.parse(api.EvaluateIn, current_request(app).raw_body)
    request = parsed.to_domain(who.tenant, who.agency)
    decision = contacts.evaluate_contact(request, gateway().deps, parsed.at or now())
    body = {
        **contacts.decision_json(decision),
        "policy_version": decision.policy_version,
        "zones": decision.inputs.get("zones", []),
        "inputs": decision.inputs,
    }
    return json_response(200, body)


@secured("/v1/contacts/{contact_id}", "GET", roles=(SUBMITTER, COMPLIANCE))
def get_contact(contact_id: str) -> Response:
    who = caller(current_request(app))
    return json_response(200, contacts.get_contact(who.tenant, contact_id, gateway().deps, agency=who.agency))


@secured("/v1/contacts/{contact_id}/outcome", "POST", roles=(SUBMITTER,))
def record_outcome(contact_id: str) -> Response:
    who = caller(current_request(app))
    parsed = api.parse(api.OutcomeIn, current_request(app).raw_body)
    body = calls.record_call_outcome(
        who.tenant, contact_id, parsed.result, gateway().deps, now(), parsed.at, agency=who.agency
    )
    return json_response(200, body)


@secured("/v1/debtors/{debtor_id}/preferences", "GET", "PUT", "PATCH", roles=(COMPLIANCE,))
def preferences(debtor_id: str) -> Response:
    request, g = current_request(app), gateway()
    debtor_id, who = api.safe_id("debtor_id", debtor_id), caller(request)
    if request.method == "GET":
        query: dict[str, str] = dict(request.query_params or {})
        addresses = api.addresses_param(query.get("addresses"), consent.MAX_ADDRESSES)
        return json_response(200, consent.get_preferences(who.tenant, debtor_id, g.deps, addresses))
    parsed = api.parse(api.PreferencesIn, request.raw_body)
    change = parsed.preferences() if request.method == "PUT" else parsed.patch()
    body = consent.change_preferences(
        who.tenant, debtor_id, g.deps, now(), change, actor=parsed.actor, reason=parsed.reason, key_id=who.key_id
    )
    return json_response(200, body)


@secured("/v1/debtors/{debtor_id}/disputes/{dispute_id}/resolve", "POST", roles=(COMPLIANCE,))
def resolve_dispute(debtor_id: str, dispute_id: str) -> Response:
    request, who = current_request(app), caller(current_request(app))
    debtor_id, dispute_id = api.safe_id("debtor_id", debtor_id), api.safe_id("dispute_id", dispute_id)
    parsed = api.parse(api.ResolutionIn, request.raw_body)
    body = disputes.resolve(
        who.tenant,
        debtor_id,
        dispute_id,
        parsed.reason,
        gateway().deps,
        api.utcnow(),
        key_id=who.key_id,
        actor=parsed.actor,
    )
    return json_response(200, body)


@secured("/v1/audit/events", "GET", roles=(COMPLIANCE,))
def audit_events() -> Response:
    request, g = current_request(app), gateway()
    params = api.AuditQuery.from_params(request.query_params)
    page = audit_read.events_page(caller(request).tenant, params.to_query(), g.audit_deps, now(), params.cursor)
    return json_response(200, page)


@secured("/v1/audit/verify", "GET", roles=(COMPLIANCE,))
def audit_verify() -> Response:
    """One chain (``debtor_id``), or every chain touched in ``[from, to)`` a page of debtors at a time."""
    request, g = current_request(app), gateway()
    params, tenant = api.VerifyQuery.from_params(request.query_params), caller(request).tenant
    if params.debtor_id:
        return json_response(200, audit_read.verify(tenant, params.debtor_id, g.audit_deps))
    assert params.start and params.end
    body = audit_read.verify_range(tenant, params.start, params.end, g.audit_deps, params.cursor, params.limit)
    return json_response(200, body)


@secured("/v1/exports", "POST", roles=(COMPLIANCE,))
def request_export() -> Response:
    who = caller(current_request(app))
    spec = api.parse(api.ExportIn, current_request(app).raw_body).to_spec()
    body = exports.request_export(who.tenant, spec, gateway().export_deps, now(), requested_by=who.key_id)
    return json_response(202, body, headers={"Location": f"/v1/exports/{body['export_id']}"})


@secured("/v1/exports/public-key", "GET", roles=(COMPLIANCE, REGULATOR))
def export_public_key() -> Response:
    """The key that signs every export's manifest: check a bundle offline with it."""
    signer = gateway().export_deps.signer
    pem = signer.public_key_pem()
    params = dict(current_request(app).query_params or {})
    if params.get("format") == "pem":
        return Response(body=pem, status_code=200, headers={"Content-Type": "application/x-pem-file"})
    return json_response(200, {"key_id": signer.key_id, "algorithm": signer.ALGORITHM, "public_key_pem": pem})


@secured("/v1/exports/{export_id}", "GET", roles=(COMPLIANCE, REGULATOR))
def export_status(export_id: str) -> Response:
    export_id, g, who = api.safe_id("export_id", export_id), gateway(), caller(current_request(app))
    regulator = who.key_id if who.role is REGULATOR else None
    body = exports.export_status(who.tenant, export_id, g.export_deps, now(), regulator_key=regulator)
    return json_response(200, body)


@secured("/v1/exports/{export_id}/grants", "POST", roles=(COMPLIANCE,))
def grant_export(export_id: str) -> Response:
    """Let one regulator key of this tenant read this export (and nothing else)."""
    export_id, g, who = api.safe_id("export_id", export_id), gateway(), caller(current_request(app))
    parsed = api.parse(api.GrantIn, current_request(app).raw_body)
    body = keys.grant_export(
        g.keys,
        g.deps,
        g.export_deps,
        now(),
        tenant=who.tenant,
        export_id=export_id,
        key_id=parsed.key_id,
        by=who.actor,
    )
    return json_response(200, body)


@secured("/v1/exports/{export_id}/grants/{key_id}", "DELETE", roles=(COMPLIANCE,))
def withdraw_export_grant(export_id: str, key_id: str) -> Response:
    export_id, key_id = api.safe_id("export_id", export_id), api.safe_id("key_id", key_id)
    g, who = gateway(), caller(current_request(app))
    body = keys.withdraw_grant(
        g.deps, g.export_deps, now(), tenant=who.tenant, export_id=export_id, key_id=key_id, by=who.actor
    )
    return json_response(200, body)


@secured("/v1/keys", "GET", "POST", roles=(ADMIN,))
def api_keys() -> Response:
    """An admin lists its tenant's keys, or issues one (shown once, in this answer only)."""
    request, g = current_request(app), gateway()
    who = caller(request)
    if request.method == "GET":
        return json_response(200, {"keys": keys.list_keys(g.keys, who.tenant)})
    parsed = api.parse(api.KeyIn, request.raw_body)
    issued = keys.issue_key(
        g.keys,
        g.deps,
        now(),
        tenant=who.tenant,
        role=Role(parsed.role),
        agency=parsed.agency,
        name=parsed.name,
        created_by=who.actor,
    )
    return json_response(201, {**issued.record, "key": issued.key}, headers={"Cache-Control": "no-store"})


@secured("/v1/keys/{key_id}", "DELETE", roles=(ADMIN,))
def revoke_api_key(key_id: str) -> Response:
    key_id, g, who = api.safe_id("key_id", key_id), gateway(), caller(current_request(app))
    return json_response(200, keys.revoke_key(g.keys, g.deps, now(), tenant=who.tenant, key_id=key_id, by=who.actor))


@secured("/v1/settings", "GET", "PATCH", roles=(ADMIN,))
def settings() -> Response:
    """An admin reads or changes its tenant's settings (its own sending rates); each change is audited."""
    request, g = current_request(app), gateway()
    who, limits = caller(request), g.pacing.rates
    if request.method == "GET":
        return json_response(200, tenant_settings.read_settings(g.tenant_settings, who.tenant, limits))
    patch = api.parse(api.SettingsIn, request.raw_body).patch()
    body = tenant_settings.change_settings(
        g.tenant_settings, g.deps, now(), tenant=who.tenant, patch=patch, by=who.actor, limits=limits
    )
    return json_response(200, body)


@route(app, "/console", "GET")
def console_page() -> Response:
    """The compliance console: a page over the public API, with the officer's own key."""
    return console.page()


@route(app, "/console/{asset}", "GET")
def console_asset(asset: str) -> Response:
    found = console.asset(asset)
    if found is None:
        raise api.Problem(404, "Not found", f"the console has no file {asset!r}")
    return found


UNSUBSCRIBE_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Unsubscribe</title>
<form method="post"><p>Stop emails to this address?</p><button type="submit">Unsubscribe</button></form></html>"""


@route(app, "/v1/unsubscribe/{token}", "GET", "POST", any_body=True)
def unsubscribe_link(token: str) -> Response:
    """RFC 8058 one-click: mail clients POST; a person following the link gets a button (GET changes nothing)."""
    if current_request(app).method == "GET":
        return Response(body=UNSUBSCRIBE_PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
    secret = (gateway().settings.unsubscribe_secret or "").encode()
    if not secret:
        raise api.Problem(404, "Not found", "unsubscribe links are not configured here")
    done = unsubscribe.unsubscribe(secret, token, gateway().deps, now())
    answer = {"unsubscribed": True, "channel": "email", "address": done.address, "changed": done.changed}
    if not done.changed:
        answer["detail"] = "this address was already unsubscribed; nothing was changed or recorded"
    return json_response(200, answer)


@app.on_sns_message(topic=resources.INBOUND_SMS_TOPIC)
def inbound_sms(event: Any) -> None:
    """A reply to one of our texts: STOP, 退订, HELP, START, or anything else (kept for a human)."""
    topics.inbound_sms(event.message, gateway(), now)


@app.on_sns_message(topic=resources.SES_FEEDBACK_TOPIC)
def ses_feedback(event: Any) -> None:
    """SES bounce and complaint notifications: suppress the address for every debtor."""
    topics.ses_feedback(event.message, gateway(), now)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def dispatcher(event: Any) -> dict[str, Any]:
    """One message per shard of the due and pending indexes: the dispatch workers do the work in parallel."""
    g = gateway()
    return {"shards_queued": dispatch.tick(g.deps, g.dispatch_queue, now())}


@app.on_sqs_message(queue=resources.DISPATCH_QUEUE, batch_size=10)
def dispatch_worker(event: Any) -> None:
    """Shard messages enqueue their due people; people messages send their due contacts."""
    queues.dispatch_worker([record.body for record in event], gateway(), now)


@app.on_sqs_message(queue=resources.EXPORT_QUEUE, batch_size=1)
def export_worker(event: Any) -> None:
    """Builds one export bundle; a redelivered message finds the job finished and does nothing."""
    queues.export_worker([record.body for record in event], gateway(), now)


@app.on_sqs_message(queue=resources.BATCH_QUEUE, batch_size=10)
def batch_worker(event: Any) -> Any:
    """Ten queued requests of a batch at a time; one that fails does not fail or repeat the others."""
    from chalicelib.entrypoints import batch_worker as batches_entry  # Powertools batch: only this function pays

    return batches_entry.batch_worker(event.to_dict(), gateway(), now)


@app.on_dynamodb_record(
    stream_arn=ledger_stream_arn(),
    batch_size=100,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=1,
)
def audit_stream(event: Any) -> dict[str, int]:
    """Appends committed ledgers' events to the audit table (AUDIT_APPEND=stream); a failed batch comes again."""
    return audit_appender.audit_stream(event.to_dict(), gateway())


@app.schedule(Cron(20, 0, "*", "*", "?", "*"))
def audit_daily(event: Any) -> dict[str, Any]:
    """Anchor yesterday's chain heads (Object Lock) and extend the retention of events still needed."""
    g = gateway()
    return maintenance.audit_pass(g.audit_deps, maintenance.every_scope(g.keys), now())
