"""Compliance-aware contact gateway: routes and schedules. Each parses, calls one use case, responds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import AuthResponse, Chalice, Cron, Rate, Response
from chalice.app import AuthRequest

from chalicelib import console, observability, resources, telemetry
from chalicelib.adapters.errors import storage_errors
from chalicelib.bootstrap import LazyRuntime, bootstrap
from chalicelib.domain import impact_spec
from chalicelib.domain.access import Role
from chalicelib.domain.errors import StorageUnavailableError
from chalicelib.domain.model import Channel
from chalicelib.entrypoints import audit_appender, queues, topics, webhook_worker
from chalicelib.entrypoints import receipts as receipts_entry
from chalicelib.http import (
    MAX_BATCH_BODY_BYTES,
    Operation,
    Problem,
    authorizer_answer,
    caller,
    current_request,
    declared,
    json_response,
    models,
    openapi,
    route,
)
from chalicelib.services import (
    address_search,
    audit_read,
    batches,
    calls,
    consent,
    contacts,
    disclosure,
    dispatch,
    disputes,
    exports,
    keys,
    maintenance,
    notes,
    reports,
    templates,
    tenant_settings,
    unsubscribe,
    webhooks,
)
from chalicelib.services import (
    debtor_status as status,
)
from chalicelib.settings import ledger_stream_arn

# Logs go through Powertools (chalicelib/observability.py), whose logger has this name too: Chalice must not
# add a handler of its own or set that logger to ERROR.
app = Chalice(app_name="contact-gateway", configure_logs=False)
app.register_middleware(observability.http_middleware, "http")
app.register_middleware(
    telemetry.trace_middleware(lambda: app.lambda_context.function_name if app.lambda_context else "local"), "all"
)

runtime = LazyRuntime(bootstrap)  # what every route and trigger runs with
using = runtime.using  # ``with app.using(built):`` serves a test's or a bench's runtime for the block


def now() -> datetime:
    """The runtime's clock: the real time, or the local stack's chosen one (GATEWAY_CLOCK_AT)."""
    return runtime().now()


# API Gateway may answer from a cached authorizer result for this long: a revoked key can work for at
# most this many seconds in AWS (chalice local caches nothing). The answer is right for any route.
AUTH_CACHE_SECONDS = 30

SUBMITTER, COMPLIANCE, REGULATOR, ADMIN = Role.SUBMITTER, Role.COMPLIANCE, Role.REGULATOR, Role.ADMIN


@app.authorizer(ttl_seconds=AUTH_CACHE_SECONDS)
def bearer_auth(auth_request: AuthRequest) -> AuthResponse:
    """``Authorization: Bearer <key>`` -> tenant, role, agency; or why there is no principal."""
    try:
        return authorizer_answer(keys.authenticate(runtime().keys, auth_request.token or ""))
    except StorageUnavailableError:
        return authorizer_answer(None)


def secured(path: str, *operations: Operation, roles: tuple[Role, ...], **kwargs: Any) -> Any:
    """A route only keys of ``roles`` may use; the caller's tenant scopes everything it reads or writes."""
    return route(app, path, *operations, roles=roles, authorizer=bearer_auth, **kwargs)


@route(app, "/v1/health", Operation("GET", "Ready: tables reachable, policy bundle loaded"))
def health() -> Response:
    g = runtime()
    with storage_errors():  # unreachable or missing table: 503, not 500
        g.clients.dynamodb.describe_table(TableName=g.settings.ledger_table)
    return json_response(200, {"status": "ok", "policy_version": g.policies.version})


@route(app, "/v1/openapi.json", Operation("GET", "This document"))
def openapi_document() -> Response:
    """The API's OpenAPI 3.1 document, from the same models the routes parse with."""
    return json_response(200, openapi.document(runtime().policies.version, declared(app)))


@secured(
    "/v1/contacts",
    Operation(
        "POST",
        "Submit one contact: decide, reserve, send or defer",
        ok=(200, 202),
        body=models.ContactIn,
        errors=(409, 422),
        headers=("Idempotency-Key",),
    ),
    roles=(SUBMITTER,),
)
def submit() -> Response:
    request, who = current_request(app), caller(current_request(app))
    parsed = models.parse(models.ContactIn, request.raw_body)
    payload = {"tenant": who.tenant, "agency": who.agency, "route": "contacts", "body": parsed.model_dump(mode="json")}
    payload["submitted_by"] = who.key_id  # not part of the idempotency key: a replay by another key is a replay
    key = request.headers.get("idempotency-key")
    if key:
        outcome = runtime().submit_once({**payload, "key": key}, app.lambda_context)
    else:
        outcome = runtime().submit(payload)
    # Told at the edge, so a replay of an answer stored before agencies were told less is told the same way.
    return json_response(outcome["status"], disclosure.submission(who.agency, outcome["body"], runtime().policies))


@secured(
    "/v1/contacts/batch",
    Operation(
        "POST",
        "Submit up to 500 contacts: validated together, queued, decided one by one",
        ok=(202,),
        body=models.BatchIn,
        headers=("Idempotency-Key",),
    ),
    roles=(SUBMITTER,),
    max_body=MAX_BATCH_BODY_BYTES,
)
def submit_batch() -> Response:
    """Up to 500 requests, validated together, queued on SQS, decided one by one by the batch worker."""
    request, g = current_request(app), runtime()
    who = caller(request)
    valid, rejected = models.parse_batch(request.raw_body)
    body = batches.accept(
        who,
        valid,
        g.deps,
        now(),
        idempotency_key=request.headers.get("idempotency-key"),
        rejected=rejected,
    )
    if rejected:
        body["rejected"] = rejected
    return json_response(202, body, headers={"Location": f"/v1/contacts/batch/{body['batch_id']}"})


@secured(
    "/v1/contacts/batch/{batch_id}",
    Operation("GET", "A batch's progress and each request's result", errors=(404,)),
    roles=(SUBMITTER, COMPLIANCE),
)
def batch_status(batch_id: str) -> Response:
    batch_id, who = models.safe_id("batch_id", batch_id), caller(current_request(app))
    body = batches.status(who.tenant, batch_id, runtime().deps, now(), agency=who.agency)
    return json_response(200, body)


@secured(
    "/v1/contacts/evaluate",
    Operation("POST", "What-if: the decision at `at`, nothing written", body=models.EvaluateIn, errors=(422,)),
    roles=(SUBMITTER, COMPLIANCE),
)
def evaluate() -> Response:
    who = caller(current_request(app))
    parsed = models.parse(models.EvaluateIn, current_request(app).raw_body)
    request = parsed.to_domain(who.tenant, who.agency)
    decision = contacts.evaluate_contact(request, runtime().deps, parsed.at or now(), parsed.template_use())
    body = contacts.evaluation_json(decision)
    return json_response(200, disclosure.evaluation(who.agency, body, runtime().policies))


@secured(
    "/v1/contacts/{contact_id}",
    Operation("GET", "A contact's status and audit events", errors=(404,)),
    roles=(SUBMITTER, COMPLIANCE),
)
def get_contact(contact_id: str) -> Response:
    who, g = caller(current_request(app)), runtime()
    body = contacts.get_contact(who.tenant, contact_id, g.deps, agency=who.agency)
    return json_response(200, disclosure.contact(who.agency, body, g.policies))


@secured(
    "/v1/contacts/{contact_id}/outcome",
    Operation("POST", "Report a permitted call's outcome", body=models.OutcomeIn, errors=(404, 409)),
    roles=(SUBMITTER,),
)
def record_outcome(contact_id: str) -> Response:
    who = caller(current_request(app))
    parsed = models.parse(models.OutcomeIn, current_request(app).raw_body)
    body = calls.record_call_outcome(
        who.tenant, contact_id, parsed.result, runtime().deps, now(), parsed.at, agency=who.agency
    )
    return json_response(200, body)


@secured(
    "/v1/debtors/{debtor_id}/preferences",
    Operation(
        "GET",
        "The person's consent state, and the suppressions (STOP, unsubscribe, bounce) of their addresses",
        query=models.PreferencesQuery,
    ),
    Operation("PUT", "Replace the consent state", body=models.PreferencesIn),
    Operation("PATCH", "Replace the named parts of the consent state", body=models.PreferencesIn),
    roles=(COMPLIANCE,),
)
def preferences(debtor_id: str) -> Response:
    request, g = current_request(app), runtime()
    debtor_id, who = models.safe_id("debtor_id", debtor_id), caller(request)
    if request.method == "GET":
        query: dict[str, str] = dict(request.query_params or {})
        addresses = models.addresses_param(query.get("addresses"), consent.MAX_ADDRESSES)
        return json_response(200, consent.get_preferences(who.tenant, debtor_id, g.deps, addresses))
    parsed = models.parse(models.PreferencesIn, request.raw_body)
    change = parsed.preferences() if request.method == "PUT" else parsed.patch()
    body = consent.change_preferences(
        who.tenant, debtor_id, g.deps, now(), change, actor=parsed.actor, reason=parsed.reason, key_id=who.key_id
    )
    return json_response(200, body)


@secured(
    "/v1/debtors/{debtor_id}/disputes/{dispute_id}/resolve",
    Operation(
        "POST",
        "Close the review of a dispute a reply raised, with the reason (audited)",
        body=models.ResolutionIn,
        errors=(404, 409),
    ),
    roles=(COMPLIANCE,),
)
def resolve_dispute(debtor_id: str, dispute_id: str) -> Response:
    request, who = current_request(app), caller(current_request(app))
    debtor_id, dispute_id = models.safe_id("debtor_id", debtor_id), models.safe_id("dispute_id", dispute_id)
    parsed = models.parse(models.ResolutionIn, request.raw_body)
    body = disputes.resolve(
        who.tenant,
        debtor_id,
        dispute_id,
        parsed.reason,
        runtime().deps,
        now(),
        key_id=who.key_id,
        actor=parsed.actor,
    )
    return json_response(200, body)


@secured(
    "/v1/audit/events",
    Operation("GET", "Audit events, filtered and paginated", query=models.AuditQuery),
    roles=(COMPLIANCE,),
)
def audit_events() -> Response:
    request, g = current_request(app), runtime()
    params = models.AuditQuery.from_params(request.query_params)
    if params.address is not None:  # never an agency's: it reaches every debtor of the tenant
        who = models.without_agency(caller(request), "address")
        page = address_search.events_page(who.tenant, params.address, g.deps, **params.address_paging())
        return json_response(200, page)
    page = audit_read.events_page(caller(request).tenant, params.to_query(), g.deps, now(), params.cursor)
    return json_response(200, page)


@secured(
    "/v1/audit/verify",
    Operation("GET", "Verify one chain, or every chain touched in a range", query=models.VerifyQuery, errors=(404,)),
    roles=(COMPLIANCE,),
)
def audit_verify() -> Response:
    """One chain (``debtor_id``), or every chain touched in ``[from, to)`` a page of debtors at a time."""
    request, g = current_request(app), runtime()
    params, tenant = models.VerifyQuery.from_params(request.query_params), caller(request).tenant
    if params.debtor_id:
        return json_response(200, audit_read.verify(tenant, params.debtor_id, g.deps))
    assert params.start and params.end
    body = audit_read.verify_range(tenant, params.start, params.end, g.deps, params.cursor, params.limit)
    return json_response(200, body)


@secured(
    "/v1/exports",
    Operation("POST", "Request a signed export bundle", ok=(202,), body=models.ExportIn, errors=(404, 422)),
    roles=(COMPLIANCE,),
)
def request_export() -> Response:
    who = caller(current_request(app))
    spec = models.parse(models.ExportIn, current_request(app).raw_body).to_spec()
    body = exports.request_export(who.tenant, spec, runtime().deps, now(), requested_by=who.key_id)
    return json_response(202, body, headers={"Location": f"/v1/exports/{body['export_id']}"})


@secured(
    "/v1/exports/public-key",
    Operation("GET", "The public key that signs export manifests"),
    roles=(COMPLIANCE, REGULATOR),
)
def export_public_key() -> Response:
    """The key that signs every export's manifest: check a bundle offline with it."""
    signer = runtime().deps.signer
    pem = signer.public_key_pem()
    params = dict(current_request(app).query_params or {})
    if params.get("format") == "pem":
        return Response(body=pem, status_code=200, headers={"Content-Type": "application/x-pem-file"})
    return json_response(200, {"key_id": signer.key_id, "algorithm": signer.ALGORITHM, "public_key_pem": pem})


@secured(
    "/v1/exports/{export_id}",
    Operation("GET", "An export's status and download URLs", errors=(404, 410)),
    roles=(COMPLIANCE, REGULATOR),
)
def export_status(export_id: str) -> Response:
    export_id, g, who = models.safe_id("export_id", export_id), runtime(), caller(current_request(app))
    regulator = who.key_id if who.role is REGULATOR else None
    body = exports.export_status(who.tenant, export_id, g.deps, now(), regulator_key=regulator)
    return json_response(200, body)


@secured(
    "/v1/exports/{export_id}/grants",
    Operation("POST", "Let one regulator key read this export", body=models.GrantIn, errors=(404, 410)),
    roles=(COMPLIANCE,),
)
def grant_export(export_id: str) -> Response:
    """Let one regulator key of this tenant read this export (and nothing else)."""
    export_id, g, who = models.safe_id("export_id", export_id), runtime(), caller(current_request(app))
    parsed = models.parse(models.GrantIn, current_request(app).raw_body)
    body = keys.grant_export(
        g.keys,
        g.deps,
        now(),
        tenant=who.tenant,
        export_id=export_id,
        key_id=parsed.key_id,
        by=who.actor,
    )
    return json_response(200, body)


@secured(
    "/v1/exports/{export_id}/grants/{key_id}",
    Operation("DELETE", "Withdraw a regulator key's access to this export", errors=(404,)),
    roles=(COMPLIANCE,),
)
def withdraw_export_grant(export_id: str, key_id: str) -> Response:
    export_id, key_id = models.safe_id("export_id", export_id), models.safe_id("key_id", key_id)
    g, who = runtime(), caller(current_request(app))
    body = keys.withdraw_grant(g.deps, now(), tenant=who.tenant, export_id=export_id, key_id=key_id, by=who.actor)
    return json_response(200, body)


@secured(
    "/v1/policy-impact",
    Operation(
        "POST", "Replay a range of decisions under proposed packs", ok=(202,), body=models.PolicyImpactIn, errors=(422,)
    ),
    roles=(COMPLIANCE,),
    max_body=impact_spec.MAX_BODY_BYTES,
)
def request_policy_impact() -> Response:
    who = caller(current_request(app))
    spec = models.parse(models.PolicyImpactIn, current_request(app).raw_body).to_spec()
    from chalicelib.services import policy_impact  # YAML and the replay load on the first replay asked for

    body = policy_impact.request_impact(who.tenant, spec, runtime().deps, now(), requested_by=who.key_id)
    return json_response(202, body, headers={"Location": f"/v1/policy-impact/{body['impact_id']}"})


@secured(
    "/v1/policy-impact/{impact_id}",
    Operation("GET", "A policy impact replay's status and, when done, its report", errors=(404,)),
    roles=(COMPLIANCE,),
)
def policy_impact_status(impact_id: str) -> Response:
    impact_id, who = models.safe_id("impact_id", impact_id), caller(current_request(app))
    from chalicelib.services import policy_impact

    return json_response(200, policy_impact.impact_status(who.tenant, impact_id, runtime().deps))


@secured(
    "/v1/keys",
    Operation("GET", "The tenant's API keys (never the keys themselves)"),
    Operation("POST", "Issue an API key: shown once, in this answer", ok=(201,), body=models.KeyIn),
    roles=(ADMIN,),
)
def api_keys() -> Response:
    """An admin lists its tenant's keys, or issues one (shown once, in this answer only)."""
    request, g = current_request(app), runtime()
    who = caller(request)
    if request.method == "GET":
        return json_response(200, {"keys": keys.list_keys(g.keys, who.tenant)})
    parsed = models.parse(models.KeyIn, request.raw_body)
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


@secured("/v1/keys/{key_id}", Operation("DELETE", "Revoke an API key for good", errors=(404, 409)), roles=(ADMIN,))
def revoke_api_key(key_id: str) -> Response:
    key_id, g, who = models.safe_id("key_id", key_id), runtime(), caller(current_request(app))
    return json_response(200, keys.revoke_key(g.keys, g.deps, now(), tenant=who.tenant, key_id=key_id, by=who.actor))


@secured(
    "/v1/settings",
    Operation("GET", "The tenant's settings (its own sending rates) and the deployment's limits"),
    Operation(
        "PATCH", "Change the named settings (null clears one); audited with before and after", body=models.SettingsIn
    ),
    roles=(ADMIN,),
)
def settings() -> Response:
    """An admin reads or changes its tenant's settings (its own sending rates); each change is audited."""
    request, g = current_request(app), runtime()
    who, limits = caller(request), g.pacing.rates
    if request.method == "GET":
        return json_response(200, tenant_settings.read_settings(g.tenant_settings, who.tenant, limits))
    patch = models.parse(models.SettingsIn, request.raw_body).patch()
    body = tenant_settings.change_settings(
        g.tenant_settings, g.deps, now(), tenant=who.tenant, patch=patch, by=who.actor, limits=limits
    )
    return json_response(200, body)


@secured(
    "/v1/webhooks",
    Operation("GET", "The tenant's webhooks (never their secrets)"),
    Operation(
        "POST", "Register a webhook: its signing secret is shown once, in this answer", ok=(201,), body=models.WebhookIn
    ),
    roles=(ADMIN,),
)
def webhook_list() -> Response:
    """An admin lists its tenant's webhooks, or registers one (its secret in this answer only)."""
    request, g = current_request(app), runtime()
    who = caller(request)
    if request.method == "GET":
        return json_response(200, {"webhooks": webhooks.list_webhooks(g.webhooks, who.tenant)})
    parsed = models.parse(models.WebhookIn, request.raw_body)
    body = webhooks.register(
        g.webhooks,
        g.deps,
        now(),
        tenant=who.tenant,
        url=parsed.url,
        events=parsed.events,
        by=who.actor,
        description=parsed.description,
        agency=parsed.agency,
    )
    return json_response(
        201, body, headers={"Cache-Control": "no-store", "Location": f"/v1/webhooks/{body['webhook_id']}"}
    )


@secured("/v1/webhooks/{webhook_id}", Operation("DELETE", "Delete a webhook for good", errors=(404,)), roles=(ADMIN,))
def webhook_delete(webhook_id: str) -> Response:
    webhook_id, g, who = models.safe_id("webhook_id", webhook_id), runtime(), caller(current_request(app))
    body = webhooks.delete(g.webhooks, g.deps, now(), tenant=who.tenant, webhook_id=webhook_id, by=who.actor)
    return json_response(200, body)


@secured(
    "/v1/webhooks/{webhook_id}/test",
    Operation("POST", "Send a signed webhook.test event to this webhook", ok=(202,), errors=(404,)),
    roles=(ADMIN,),
    any_body=True,
)
def webhook_test(webhook_id: str) -> Response:
    webhook_id, g, who = models.safe_id("webhook_id", webhook_id), runtime(), caller(current_request(app))
    return json_response(202, webhooks.send_test(g.webhooks, now(), tenant=who.tenant, webhook_id=webhook_id))


@secured(
    "/v1/webhooks/{webhook_id}/deliveries",
    Operation("GET", "The webhook's recent delivery attempts and its receiver's answers", errors=(404,)),
    roles=(ADMIN,),
)
def webhook_deliveries(webhook_id: str) -> Response:
    webhook_id, g, who = models.safe_id("webhook_id", webhook_id), runtime(), caller(current_request(app))
    return json_response(200, webhooks.deliveries(g.webhooks, tenant=who.tenant, webhook_id=webhook_id))


# Templates: submitters, admins and compliance draft; only compliance approves or retires (maker-checker).
DRAFTERS = (SUBMITTER, COMPLIANCE, ADMIN)


@secured(
    "/v1/templates",
    Operation("GET", "The tenant's templates, with their versions' status (no texts)"),
    Operation("POST", "Create a template: its name and channel", ok=(201,), body=models.TemplateIn),
    roles=DRAFTERS,
)
def templates_collection() -> Response:
    request, g = current_request(app), runtime()
    who = caller(request)
    if request.method == "GET":
        return json_response(200, templates.list_templates(g.deps, who.tenant))
    parsed = models.parse(models.TemplateIn, request.raw_body)
    body = templates.create_template(
        g.deps,
        now(),
        by=who,
        name=parsed.name,
        channel=Channel(parsed.channel),
        description=parsed.description,
        jurisdictions=parsed.jurisdictions,
    )
    return json_response(201, body, headers={"Location": f"/v1/templates/{body['template_id']}"})


@secured(
    "/v1/templates/{template_id}",
    Operation(
        "GET", "A template and each of its versions: text, variables, status, who wrote and approved it", errors=(404,)
    ),
    roles=DRAFTERS,
)
def template_item(template_id: str) -> Response:
    template_id, who = models.safe_id("template_id", template_id), caller(current_request(app))
    return json_response(200, templates.get_template(runtime().deps, who.tenant, template_id))


@secured(
    "/v1/templates/{template_id}/versions",
    Operation(
        "POST",
        "Draft a new version: one locale's text and its typed variables",
        ok=(201,),
        body=models.VersionIn,
        errors=(404, 409),
    ),
    roles=DRAFTERS,
)
def template_versions(template_id: str) -> Response:
    template_id, who = models.safe_id("template_id", template_id), caller(current_request(app))
    parsed = models.parse(models.VersionIn, current_request(app).raw_body)
    body = templates.add_version(
        runtime().deps,
        now(),
        by=who,
        template_id=template_id,
        locale=parsed.locale,
        text=parsed.text,
        variables=parsed.declared(),
        subject=parsed.subject,
    )
    return json_response(201, body)


@secured(
    "/v1/templates/{template_id}/versions/{version}/preview",
    Operation(
        "POST",
        "Render a version with variables: the text, its SMS segments and every content finding",
        body=models.PreviewIn,
        errors=(404,),
    ),
    roles=DRAFTERS,
)
def template_preview(template_id: str, version: str) -> Response:
    template_id, who = models.safe_id("template_id", template_id), caller(current_request(app))
    parsed = models.parse(models.PreviewIn, current_request(app).raw_body)
    body = templates.preview(runtime().deps, who.tenant, template_id, models.version_number(version), parsed.variables)
    return json_response(200, body)


@secured(
    "/v1/templates/{template_id}/versions/{version}/approve",
    Operation(
        "POST",
        "Approve a draft: another compliance key than its author's; refused with content findings",
        errors=(403, 404, 409, 422),
    ),
    roles=(COMPLIANCE,),
    any_body=True,
)
def template_approve(template_id: str, version: str) -> Response:
    template_id, who = models.safe_id("template_id", template_id), caller(current_request(app))
    body = templates.approve(
        runtime().deps, now(), by=who, template_id=template_id, number=models.version_number(version)
    )
    return json_response(200, body)


@secured(
    "/v1/templates/{template_id}/versions/{version}/retire",
    Operation("POST", "Retire a version for good: it sends no more", errors=(404, 409)),
    roles=(COMPLIANCE,),
    any_body=True,
)
def template_retire(template_id: str, version: str) -> Response:
    template_id, who = models.safe_id("template_id", template_id), caller(current_request(app))
    body = templates.retire(
        runtime().deps, now(), by=who, template_id=template_id, number=models.version_number(version)
    )
    return json_response(200, body)


@route(
    app,
    "/console",
    Operation("GET", "The compliance console: a page over this API, used with the officer's key", ok_type="text/html"),
)
def console_page() -> Response:
    """The compliance console: a page over the public API, with the officer's own key."""
    return console.page()


@route(
    app,
    "/console/{asset}",
    Operation("GET", "The console's script, styles and string catalogues", errors=(404,), ok_type="text/plain"),
)
def console_asset(asset: str) -> Response:
    found = console.asset(asset)
    if found is None:
        raise Problem(404, "Not found", f"the console has no file {asset!r}")
    return found


@secured(
    "/v1/debtors/{debtor_id}/status",
    Operation(
        "GET",
        "The person's standing now: each rule's budget, lockouts, windows by zone, deferred contacts, consent",
        query=models.StatusQuery,
        errors=(404,),
    ),
    roles=(COMPLIANCE,),
)
def debtor_status(debtor_id: str) -> Response:
    request = current_request(app)
    debtor_id = models.safe_id("debtor_id", debtor_id)
    probe = models.StatusQuery.from_params(request.query_params).to_probe()
    return json_response(200, status.debtor_status(caller(request).tenant, debtor_id, runtime().deps, now(), probe))


@secured(
    "/v1/debtors/{debtor_id}/notes",
    Operation("POST", "Record a complaint or an officer's note on the person's chain", ok=(201,), body=models.NoteIn),
    roles=(COMPLIANCE,),
)
def debtor_note(debtor_id: str) -> Response:
    request, who = current_request(app), caller(current_request(app))
    debtor_id, parsed = models.safe_id("debtor_id", debtor_id), models.parse(models.NoteIn, request.raw_body)
    body = notes.record_note(who.tenant, debtor_id, runtime().deps, now(), **parsed.model_dump(), key_id=who.key_id)
    return json_response(201, body)


@secured(
    "/v1/reports/daily",
    Operation(
        "GET", "A day's totals, top rules, backlog, failed sends, last check and anchor", query=models.ReportQuery
    ),
    roles=(COMPLIANCE,),
)
def daily_report() -> Response:
    request = current_request(app)
    day = models.report_day(request.query_params, now().astimezone(UTC))
    return json_response(200, reports.daily_report(caller(request).tenant, day, runtime().deps, now()))


UNSUBSCRIBE_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Unsubscribe</title>
<form method="post"><p>Stop emails to this address?</p><button type="submit">Unsubscribe</button></form></html>"""


@route(
    app,
    "/v1/unsubscribe/{token}",
    Operation("GET", "One-click unsubscribe: the confirmation page", ok_type="text/html"),
    Operation("POST", "RFC 8058 one-click unsubscribe", errors=(404,)),
    any_body=True,
)
def unsubscribe_link(token: str) -> Response:
    """RFC 8058 one-click: mail clients POST; a person following the link gets a button (GET changes nothing)."""
    if current_request(app).method == "GET":
        return Response(body=UNSUBSCRIBE_PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
    keys = runtime().unsubscribe_keys
    if keys is None:
        raise Problem(404, "Not found", "unsubscribe links are not configured here")
    done = unsubscribe.unsubscribe(keys.checking(), token, runtime().deps, now())
    answer = {"unsubscribed": True, "channel": "email", "address": done.address, "changed": done.changed}
    if not done.changed:
        answer["detail"] = "this address was already unsubscribed; nothing was changed or recorded"
    return json_response(200, answer)


@app.on_sns_message(topic=resources.INBOUND_SMS_TOPIC)
def inbound_sms(event: Any) -> None:
    """A reply to one of our texts: STOP, 退订, HELP, START, or anything else (kept for a human)."""
    topics.inbound_sms(event.message, runtime(), now)


@app.on_sns_message(topic=resources.SES_FEEDBACK_TOPIC)
def ses_feedback(event: Any) -> None:
    """SES bounce and complaint notifications: suppress the address for every debtor."""
    topics.ses_feedback(event.message, runtime(), now)


@app.lambda_function(name="sms_status")
def sms_status(event: dict[str, Any], context: Any) -> dict[str, int]:
    """SNS's SMS delivery-status log lines (a CloudWatch Logs subscription): receipts on the contacts' chains."""
    return {"receipts": len(receipts_entry.sms_status(event, runtime(), now) or [])}


@app.schedule(Rate(1, unit=Rate.MINUTES))
def dispatcher(event: Any) -> dict[str, Any]:
    """One message per shard of the due and pending indexes: the dispatch workers do the work in parallel."""
    g = runtime()
    return {"shards_queued": dispatch.tick(g.deps, g.dispatch_queue, now())}


@app.on_sqs_message(queue=resources.DISPATCH_QUEUE, batch_size=10)
def dispatch_worker(event: Any) -> None:
    """Shard messages enqueue their due people; people messages send their due contacts."""
    queues.dispatch_worker([record.body for record in event], runtime(), now)


@app.on_sqs_message(queue=resources.EXPORT_QUEUE, batch_size=1)
def export_worker(event: Any) -> None:
    """Builds one export bundle; a redelivered message finds the job finished and does nothing."""
    queues.export_worker([record.body for record in event], runtime(), now)


@app.on_sqs_message(queue=resources.BATCH_QUEUE, batch_size=10)
def batch_worker(event: Any) -> Any:
    """Ten queued requests of a batch at a time; one that fails does not fail or repeat the others."""
    from chalicelib.entrypoints import batch_worker as batches_entry  # Powertools batch: only this function pays

    return batches_entry.batch_worker(event.to_dict(), runtime(), now)


@app.on_sqs_message(queue=resources.WEBHOOK_QUEUE, batch_size=10)
def webhook_sender(event: Any) -> dict[str, Any]:
    """Posts each webhook message to its receiver, signed; a failed one is put back with its delay."""
    return webhook_worker.webhook_worker(event.to_dict(), runtime(), now)


@app.on_dynamodb_record(
    stream_arn=ledger_stream_arn(),
    batch_size=100,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=1,
)
def audit_stream(event: Any) -> dict[str, int]:
    """Appends committed ledgers' events to the audit table (AUDIT_APPEND=stream); a failed batch comes again."""
    return audit_appender.audit_stream(event.to_dict(), runtime())


@app.schedule(Cron(20, 0, "*", "*", "?", "*"))
def audit_daily(event: Any) -> dict[str, Any]:
    """Anchor yesterday's chain heads (Object Lock) and extend the retention of events still needed."""
    g = runtime()
    return maintenance.audit_pass(g.deps, maintenance.every_scope(g.keys), now())
