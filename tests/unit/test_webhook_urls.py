"""Where webhooks may point: deployed, https to public addresses only, checked when a webhook is registered
and again at every send; the local stack, any http(s) URL on this machine too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.bootstrap import bootstrap
from chalicelib.domain.webhooks import WebhookUrlError, check_addresses, check_url
from chalicelib.services import webhooks as admin
from chalicelib.services.webhook_delivery import Webhooks, attempt
from chalicelib.settings import Settings
from tests.fakes import ContextBox, InMemoryWebhooks, Receiver, RecordingQueue
from tests.support import NOON_ATLANTA, TENANT

PRIVATE = ["10.0.0.5", "127.0.0.1", "169.254.169.254", "192.168.1.10", "172.16.0.1", "::1", "fe80::1", "fd00::1"]


@pytest.mark.parametrize("address", PRIVATE)
def test_deployed_a_host_resolving_to_a_private_loopback_or_link_local_address_is_refused(address: str) -> None:
    with pytest.raises(WebhookUrlError) as raised:
        check_addresses("hooks.example.com", ["93.184.216.34", address], "public")
    assert raised.value.field == "url"


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/in", "ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", "hooks"]
)
def test_deployed_a_url_must_be_https_without_credentials(url: str) -> None:
    with pytest.raises(WebhookUrlError):
        check_url(url, "public")


def test_deployed_an_https_url_resolving_only_to_public_addresses_is_accepted() -> None:
    host = check_url("https://hooks.example.com:8443/in?x=1", "public")
    assert check_addresses(host, ["93.184.216.34", "2606:2800:220:1::1"], "public") == "93.184.216.34"


def test_locally_a_receiver_on_this_machine_is_accepted() -> None:
    host = check_url("http://127.0.0.1:9000/hook", "local")
    assert host == "127.0.0.1" and check_addresses(host, ["127.0.0.1"], "local") == "127.0.0.1"


def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(WebhookUrlError):
        check_addresses("nowhere.invalid", [], "local")


def hub(receiver: Receiver) -> Webhooks:
    store = InMemoryWebhooks()
    queue, dead = RecordingQueue(NOON_ATLANTA), RecordingQueue(NOON_ATLANTA)
    return Webhooks(store, store, ContextBox(), receiver, queue, dead, cache_for=timedelta(0))


def test_registration_refuses_a_host_that_resolves_to_the_metadata_address(deps) -> None:
    webhooks = hub(Receiver({"evil.example.com": ["169.254.169.254"]}))
    with pytest.raises(WebhookUrlError):
        admin.register(
            webhooks,
            deps,
            NOON_ATLANTA,
            tenant=TENANT,
            url="https://evil.example.com/",
            events=["contact.sent"],
            by="a",
        )
    assert webhooks.registry.for_tenant(TENANT) == []


def test_at_send_time_a_host_that_now_resolves_privately_is_not_posted_to_and_is_tried_again(deps) -> None:
    receiver = Receiver({"hooks.example.com": ["93.184.216.34"]})
    webhooks = hub(receiver)
    created = admin.register(
        webhooks, deps, NOON_ATLANTA, tenant=TENANT, url="https://hooks.example.com/", events=["contact.sent"], by="a"
    )
    admin.send_test(webhooks, NOON_ATLANTA, tenant=TENANT, webhook_id=created["webhook_id"])
    receiver.addresses["hooks.example.com"] = ["10.1.2.3"]  # DNS rebinding after registration
    [(_at, body)] = webhooks.queue.receive()  # type: ignore[attr-defined]
    assert attempt(webhooks, body, NOON_ATLANTA) == "retry" and receiver.posts == []
    [entry] = webhooks.log.recent(TENANT, created["webhook_id"], 5)
    assert entry.get("status") is None and entry["answer"].startswith("refused: ")


def test_the_local_url_mode_is_refused_outside_the_local_stack(policies) -> None:
    with pytest.raises(ValueError, match="WEBHOOK_URLS=local"):
        bootstrap(Settings(webhook_urls="local"), policies=policies)
    local = Settings(webhook_urls="local", endpoint_url="http://127.0.0.1:5000")
    assert bootstrap(local, policies=policies).webhooks.mode == "local"
