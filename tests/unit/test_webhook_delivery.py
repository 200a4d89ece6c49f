"""Webhooks over the fakes: which committed events reach which webhook, signed as Standard Webhooks says,
retried on a fake clock for more than a day, then dead-lettered; a failing receiver slows only itself."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from standardwebhooks import Webhook

from chalicelib.domain import webhooks as rules
from chalicelib.domain.access import SHARED_SCOPE
from chalicelib.domain.errors import InvalidFieldError
from chalicelib.domain.ledger import Ledger
from chalicelib.entrypoints import webhook_worker
from chalicelib.services import appender, consent, inbound, suppression
from chalicelib.services import webhooks as admin
from chalicelib.services.contacts import submit_contact
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.webhook_delivery import Webhooks, announcer, attempt, headers
from tests.fakes import ContextBox, InMemoryWebhooks, Receiver, RecordingQueue
from tests.support import NOON_ATLANTA, TENANT, make_request

NIGHT_ATLANTA = NOON_ATLANTA - timedelta(hours=14)  # 22:00 the day before: a text waits for 08:00


def hub(now: datetime = NOON_ATLANTA, mode: rules.UrlMode = "public") -> Webhooks:
    store = InMemoryWebhooks()
    queue, dead = RecordingQueue(now), RecordingQueue(now)
    return Webhooks(store, store, ContextBox(), Receiver(), queue, dead, mode=mode, cache_for=timedelta(0))


def register(webhooks: Webhooks, deps: UnitOfWork, events: list[str], **fields: Any) -> dict[str, Any]:
    fields.setdefault("tenant", TENANT)
    url = fields.pop("url", "https://hooks.example.com/in")
    return admin.register(webhooks, deps, NOON_ATLANTA, url=url, events=events, by="admin", **fields)


def append(deps: UnitOfWork, webhooks: Webhooks, *keys: tuple[str, str], now: datetime = NOON_ATLANTA) -> None:
    """What the ledger stream's appender does with each committed ledger: append, announce, mark."""
    images: list[Ledger] = [deps.ledgers.get(*key) for key in keys]
    appender.append_committed(images, deps.ledgers, deps.audit, announce=announcer(webhooks, lambda: now))


def drain(webhooks: Webhooks, now: datetime) -> list[str]:
    """One delivery of every message visible at ``now``, as one batch of the sender."""
    failing: set[str] = set()
    return [attempt(webhooks, body, now, failing) for _at, body in webhooks.queue.receive(now)]  # type: ignore[attr-defined]


def receiver(webhooks: Webhooks) -> Receiver:
    assert isinstance(webhooks.poster, Receiver)
    return webhooks.poster


def test_the_signature_matches_the_standard_webhooks_published_example() -> None:
    secret = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    at = datetime.fromtimestamp(1614265330).astimezone()
    signed = headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", at, b'{"test": 2432232314}')
    assert signed == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


@pytest.mark.parametrize(
    ("audit_type", "data", "expected"),
    [
        ("scheduled", {}, "contact.scheduled"),
        ("sent", {}, "contact.sent"),
        ("failed", {}, "contact.failed"),
        ("blocked", {}, "contact.blocked"),
        ("refused", {}, "contact.blocked"),
        ("unknown", {}, "contact.unknown"),
        ("outcome", {}, "call.settled"),
        ("preferences_changed", {}, "preferences.changed"),
        ("unsubscribed", {}, "address.suppressed"),
        ("delivery", {"delivery": {"status": "delivered"}}, "contact.delivered"),
        ("delivery", {"delivery": {"status": "permanent_failure"}}, "contact.failed"),
        ("delivery", {"delivery": {"status": "temporary_failure"}}, None),
        ("requested", {}, None),
        ("decided", {}, None),
        ("key_created", {}, None),
    ],
)
def test_each_audit_event_is_one_webhook_event_or_none(audit_type: str, data: dict[str, Any], expected: str) -> None:
    assert rules.webhook_type({"type": audit_type, "data": data}) == expected


def test_a_sent_text_reaches_a_subscribed_webhook_signed_with_ids_and_a_masked_address_only(deps) -> None:
    webhooks = hub()
    created = register(webhooks, deps, ["contact.sent"])
    result = submit_contact(make_request(), deps, NOON_ATLANTA)
    append(deps, webhooks, (TENANT, "d-1"))
    assert drain(webhooks, NOON_ATLANTA) == ["delivered"]

    [post] = receiver(webhooks).posts
    assert signed_by(created["secret"], post)
    payload = json.loads(post["body"])
    assert post["headers"]["webhook-timestamp"] == str(int(NOON_ATLANTA.timestamp()))
    assert payload["type"] == "contact.sent" and set(payload) == {"type", "timestamp", "data"}
    data = payload["data"]
    assert (data["contact_id"], data["status"], data["address"]) == (result.contact_id, "sent", "+1404•••0100")
    assert data["provider_message_id"] == result.provider_message_id
    assert "+14045550100" not in post["body"].decode() and "overdue" not in post["body"].decode()


def signed_by(secret: str, post: dict[str, Any]) -> bool:
    """The post's signature is the secret's over ``id.timestamp.body`` (the library's ``verify`` would also
    hold the timestamp against the real clock, which these tests do not run on)."""
    hook_id, at = post["headers"]["webhook-id"], datetime.fromtimestamp(int(post["headers"]["webhook-timestamp"]))
    return bool(Webhook(secret).sign(hook_id, at.astimezone(), post["body"]) == post["headers"]["webhook-signature"])


def test_a_webhook_hears_only_the_events_it_subscribed_to(deps) -> None:
    webhooks = hub()
    register(webhooks, deps, ["contact.blocked"])
    submit_contact(make_request(), deps, NOON_ATLANTA)
    append(deps, webhooks, (TENANT, "d-1"))
    assert webhooks.queue.pending() == 0  # type: ignore[attr-defined]


def test_a_scheduled_text_is_announced_with_its_not_before(deps) -> None:
    webhooks = hub(NIGHT_ATLANTA)
    register(webhooks, deps, ["contact.scheduled"])
    submit_contact(make_request(), deps, NIGHT_ATLANTA)
    append(deps, webhooks, (TENANT, "d-1"), now=NIGHT_ATLANTA)
    drain(webhooks, NIGHT_ATLANTA)
    [payload] = receiver(webhooks).delivered()
    assert payload["type"] == "contact.scheduled" and payload["data"]["not_before"]
    assert payload["data"]["address"] == "+1404•••0100"


def test_a_blocked_contact_carries_the_rule_ids_that_blocked_it(deps) -> None:
    webhooks = hub()
    register(webhooks, deps, ["contact.blocked"])
    submit_contact(make_request(recipient_role="third_party"), deps, NOON_ATLANTA)
    append(deps, webhooks, (TENANT, "d-1"))
    drain(webhooks, NOON_ATLANTA)
    [blocked] = receiver(webhooks).delivered()
    assert blocked["type"] == "contact.blocked" and blocked["data"]["status"] == "blocked"
    assert "us-federal/third-parties" in blocked["data"]["rule_ids"]
    assert all(rule.count("/") == 1 for rule in blocked["data"]["rule_ids"])  # ids only, never a message


def test_a_tenant_never_hears_of_another_tenants_contacts(deps) -> None:
    webhooks = hub()
    register(webhooks, deps, ["contact.sent"], tenant="other")
    submit_contact(make_request(), deps, NOON_ATLANTA)
    append(deps, webhooks, (TENANT, "d-1"))
    assert webhooks.queue.pending() == 0  # type: ignore[attr-defined]


def test_an_agencys_webhook_hears_only_of_the_contacts_that_agency_asked_for(deps) -> None:
    webhooks = hub()
    events = ["contact.sent", "contact.blocked"]  # an agency's text may lack the disclosures its packs ask for
    mine = register(webhooks, deps, events, agency="acme")
    everyone = register(webhooks, deps, events)
    submit_contact(make_request(debtor_id="d-1", agency="acme"), deps, NOON_ATLANTA)
    submit_contact(make_request(debtor_id="d-2", agency="other-agency", to="+14045550101"), deps, NOON_ATLANTA)
    submit_contact(make_request(debtor_id="d-3", to="+14045550102"), deps, NOON_ATLANTA)
    append(deps, webhooks, (TENANT, "d-1"), (TENANT, "d-2"), (TENANT, "d-3"))
    drain(webhooks, NOON_ATLANTA)
    by_hook: dict[str, list[str]] = {}
    for post in receiver(webhooks).posts:
        hook = mine if signed_by(mine["secret"], post) else everyone
        assert signed_by(hook["secret"], post)
        by_hook.setdefault(hook["webhook_id"], []).append(json.loads(post["body"])["data"]["debtor_id"])
    assert by_hook[mine["webhook_id"]] == ["d-1"]
    assert sorted(by_hook[everyone["webhook_id"]]) == ["d-1", "d-2", "d-3"]


def test_an_agencys_webhook_may_subscribe_only_to_contact_events(deps) -> None:
    with pytest.raises(InvalidFieldError) as raised:
        register(hub(), deps, ["contact.sent", "export.done"], agency="acme")
    assert raised.value.field == "events"


def test_a_receiver_that_fails_then_recovers_gets_every_event_once_with_one_id_per_event(deps) -> None:
    webhooks, clock = hub(), NOON_ATLANTA
    register(webhooks, deps, ["contact.sent"])
    receiver(webhooks).answers = [None, 500, 503]  # down, then erroring, then back
    for debtor in ("d-1", "d-2"):
        submit_contact(make_request(debtor_id=debtor, to=f"+1404555{debtor[-1]}000"), deps, clock)
    append(deps, webhooks, (TENANT, "d-1"), (TENANT, "d-2"))
    outcomes: list[str] = []
    for _ in range(20):
        outcomes += drain(webhooks, clock)
        clock += timedelta(minutes=15)
    delivered = receiver(webhooks).delivered()
    assert sorted(p["data"]["debtor_id"] for p in delivered) == ["d-1", "d-2"]
    assert outcomes.count("delivered") == 2 and "dead" not in outcomes
    ids = {p["headers"]["webhook-id"] for p in receiver(webhooks).posts}
    assert len(ids) == 2  # every attempt of one event carries its one webhook-id
    [hook] = webhooks.registry.for_tenant(TENANT)
    log = webhooks.log.recent(TENANT, hook["webhook_id"], 50)
    assert len(receiver(webhooks).posts) == 5  # three failed posts: the other message waited in each batch
    assert [entry["outcome"] for entry in log].count("retry") == 6 and log[0]["outcome"] == "delivered"


def test_retries_go_on_for_more_than_a_day_then_the_message_is_dead_lettered(deps) -> None:
    webhooks, clock = hub(), NOON_ATLANTA
    register(webhooks, deps, ["contact.sent"])
    receiver(webhooks).default = 500
    submit_contact(make_request(), deps, clock)
    append(deps, webhooks, (TENANT, "d-1"))
    tried: list[datetime] = []
    while not webhooks.dead.messages and clock < NOON_ATLANTA + timedelta(days=3):  # type: ignore[attr-defined]
        if drain(webhooks, clock).count("waiting") == 0 and receiver(webhooks).posts[len(tried) :]:
            tried.append(clock)
        clock += timedelta(minutes=1)
    assert len(receiver(webhooks).posts) == rules.MAX_ATTEMPTS
    assert tried[-1] - tried[0] >= timedelta(hours=24)
    [(_at, dead)] = webhooks.dead.messages  # type: ignore[attr-defined]
    assert dead["last_answer"]["status"] == 500 and dead["attempt"] == rules.MAX_ATTEMPTS
    assert max(webhooks.queue.delays) <= 900  # type: ignore[attr-defined]  # SQS's longest delay


def test_a_failing_receiver_costs_one_attempt_a_batch_and_slows_no_other_webhook(deps) -> None:
    webhooks = hub()
    register(webhooks, deps, ["contact.sent"], url="https://down.example.com/in")
    register(webhooks, deps, ["contact.sent"], url="https://up.example.com/in")
    receiver(webhooks).default = None
    for i in range(4):
        submit_contact(make_request(debtor_id=f"d-{i}", to=f"+1404555{i}000"), deps, NOON_ATLANTA)
    append(deps, webhooks, *[(TENANT, f"d-{i}") for i in range(4)])

    def answer(url: str, address: str, body: bytes, headers: Any) -> Any:
        receiver(webhooks).default = 200 if "up." in url else None
        return Receiver.post(receiver(webhooks), url, address, body, headers)

    webhooks.poster.post = answer  # type: ignore[method-assign]
    drain(webhooks, NOON_ATLANTA)
    posts = receiver(webhooks).posts
    assert sum("down." in p["url"] for p in posts) == 1  # the other three waited without a timeout each
    assert sum("up." in p["url"] and p["status"] == 200 for p in posts) == 4


def test_a_redelivered_image_announces_again_under_the_same_ids(deps) -> None:
    webhooks = hub()
    register(webhooks, deps, ["contact.sent"])
    submit_contact(make_request(), deps, NOON_ATLANTA)
    image = deps.ledgers.get(TENANT, "d-1")
    for _ in range(2):  # the stream hands the same image again (the mark was lost)
        appender.append_committed([image], deps.ledgers, deps.audit, announce=announcer(webhooks, lambda: NOON_ATLANTA))
    drain(webhooks, NOON_ATLANTA)
    ids = [p["headers"]["webhook-id"] for p in receiver(webhooks).posts]
    assert len(ids) == 2 and len(set(ids)) == 1  # a receiver drops the second by its webhook-id


def test_a_delivery_receipt_becomes_contact_delivered_and_a_duplicate_keeps_its_id(deps) -> None:
    webhooks = hub()
    register(webhooks, deps, ["contact.delivered", "contact.failed"])
    result = submit_contact(make_request(), deps, NOON_ATLANTA)
    ledger = deps.ledgers.get(TENANT, "d-1")
    receipt = {
        "delivery": {"status": "delivered", "at": NOON_ATLANTA.isoformat(), "provider_code": "DELIVERED"},
        "provider_message_id": result.provider_message_id,
        "channel": "sms",
    }
    event = {**ledger.outbox[-1], "seq": ledger.seq + 1, "type": "delivery", "data": receipt}
    for _ in range(2):
        announcer(webhooks, lambda: NOON_ATLANTA)(ledger, [event])  # type: ignore[list-item]
    drain(webhooks, NOON_ATLANTA)
    payloads = receiver(webhooks).delivered()
    assert [p["type"] for p in payloads] == ["contact.delivered", "contact.delivered"]
    assert payloads[0]["data"]["delivery"]["status"] == "delivered"
    assert len({p["headers"]["webhook-id"] for p in receiver(webhooks).posts}) == 1


def test_a_deleted_webhooks_queued_messages_are_dropped(deps) -> None:
    webhooks = hub()
    created = register(webhooks, deps, ["contact.sent"])
    submit_contact(make_request(), deps, NOON_ATLANTA)
    append(deps, webhooks, (TENANT, "d-1"))
    admin.delete(webhooks, deps, NOON_ATLANTA, tenant=TENANT, webhook_id=created["webhook_id"], by="admin")
    assert drain(webhooks, NOON_ATLANTA) == ["dropped"] and receiver(webhooks).posts == []


def test_the_secret_is_shown_once_and_stored_only_sealed(deps) -> None:
    webhooks = hub()
    created = register(webhooks, deps, ["contact.sent"])
    assert created["secret"].startswith("whsec_") and len(base64.b64decode(created["secret"][6:])) == 32
    [stored] = webhooks.registry.for_tenant(TENANT)
    assert created["secret"][6:] not in json.dumps(stored)
    assert "secret" not in json.dumps(admin.list_webhooks(webhooks, TENANT))
    audited = [e for e in deps.audit.events.values() if e["type"] == "webhook_created"]  # type: ignore[attr-defined]
    assert audited and "secret" not in json.dumps(audited)


def test_a_stop_reply_tells_each_tenant_that_texted_the_number_that_the_address_is_suppressed(deps) -> None:
    webhooks = hub()
    register(webhooks, deps, ["address.suppressed"])
    register(webhooks, deps, ["address.suppressed"], tenant="other")
    submit_contact(make_request(), deps, NOON_ATLANTA)
    reply = {"originationNumber": "+14045550100", "destinationNumber": "+18005550100", "messageBody": "STOP"}
    parsed = inbound.parse_two_way_sms(json.dumps({**reply, "inboundMessageId": "m-1"}))
    inbound.handle_inbound_sms(parsed, SHARED_SCOPE, deps, NOON_ATLANTA)
    append(deps, webhooks, (SHARED_SCOPE, suppression.address_key("+14045550100")))
    drain(webhooks, NOON_ATLANTA)
    [payload] = receiver(webhooks).delivered()  # the other tenant never texted that number: it hears nothing
    suppressed = payload["data"]
    assert payload["type"] == "address.suppressed" and suppressed["source"] == "sms-reply"
    assert (suppressed["address"], suppressed["scope"], suppressed["debtor_ids"]) == ("+1404•••0100", "shared", ["d-1"])


def test_a_preferences_change_is_announced_without_the_preferences_themselves(deps) -> None:
    webhooks = hub()
    register(webhooks, deps, ["preferences.changed"])
    change = {"opt_outs": [{"channel": "sms", "address": "+14045550100"}]}
    consent.change_preferences(TENANT, "d-1", deps, NOON_ATLANTA, change, actor="officer", reason="asked by phone")
    append(deps, webhooks, (TENANT, "d-1"))
    drain(webhooks, NOON_ATLANTA)
    [payload] = receiver(webhooks).delivered()
    assert payload["type"] == "preferences.changed" and payload["data"]["debtor_id"] == "d-1"
    assert "+14045550100" not in json.dumps(payload) and "phone" not in json.dumps(payload)


def test_a_webhook_failure_never_holds_back_the_audit_trail(deps) -> None:
    webhooks = hub()
    register(webhooks, deps, ["contact.sent"])
    submit_contact(make_request(), deps, NOON_ATLANTA)

    def broken(tenant: str) -> list[dict[str, Any]]:
        raise KeyError("a bug in a webhook's record")

    webhooks.registry.for_tenant = broken  # type: ignore[method-assign]
    append(deps, webhooks, (TENANT, "d-1"))
    assert deps.ledgers.get(TENANT, "d-1").appended_seq == 3  # appended and marked all the same


def test_a_message_the_sender_cannot_handle_comes_back_alone(deps) -> None:
    webhooks = hub()
    created = register(webhooks, deps, ["contact.sent"])
    admin.send_test(webhooks, NOON_ATLANTA, tenant=TENANT, webhook_id=created["webhook_id"])
    [(_at, good)] = webhooks.queue.receive()  # type: ignore[attr-defined]
    records = [
        {"messageId": "m-bad", "body": json.dumps({k: v for k, v in good.items() if k != "msg_id"})},
        {"messageId": "m-good", "body": json.dumps(good)},
    ]
    runtime = SimpleNamespace(webhooks=webhooks)
    answer = webhook_worker.webhook_worker({"Records": records}, runtime, lambda: NOON_ATLANTA)  # type: ignore[arg-type]
    assert answer["batchItemFailures"] == [{"itemIdentifier": "m-bad"}]
    assert answer["outcomes"] == ["delivered"] and len(receiver(webhooks).posts) == 1
