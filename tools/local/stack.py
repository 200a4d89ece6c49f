"""The local stack: moto server + provisioning + policy bundle + ``chalice local`` + dispatcher timer.

``chalice local`` serves HTTP routes only, so the dispatcher that ``@app.schedule`` runs in AWS is
driven here on a timer, through the same function.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from chalicelib import policy_store, resources
from chalicelib.bootstrap import Clients, Runtime, bootstrap, new_session
from chalicelib.domain.errors import NotFoundError
from chalicelib.entrypoints import audit_appender, batch_worker, queues, topics, webhook_worker
from chalicelib.entrypoints import receipts as receipts_entry
from chalicelib.services import dispatch, maintenance, receipt_sources
from chalicelib.settings import Settings, clock_offset
from tools import ROOT
from tools.local import faults, provision

AUDIT_PASS_INTERVAL = 3600.0  # seconds between anchor + retention passes of the local stack
DEV_TENANT = "demo"
DEV_KEYS = ROOT / ".gateway" / "dev-keys.json"
# The clock make run's stack runs by (GATEWAY_CLOCK_AT), for commands run from another shell against it.
STACK_CLOCK = ROOT / ".gateway" / "clock.json"


def _from_sns(handler: Callable[[str], str]) -> Callable[[str], str]:
    """An SQS message from an SNS subscription wraps the published message in an envelope; the topic's handler
    gets the published message, as Lambda's SNS trigger would give it. No envelope: dropped."""

    def handle(body: str) -> str:
        try:
            message = json.loads(body)["Message"]
        except (ValueError, KeyError, TypeError) as exc:
            return f"topic delivery: dropped a message without an SNS envelope: {exc!r}"
        return handler(message)

    return handle


def topic_handlers(gateway: Runtime, now: Callable[[], datetime]) -> dict[str, Callable[[str], str]]:
    """Each topic's published message to what its function runs in AWS (chalicelib/entrypoints/topics.py):
    a message the handler drops is dropped here too, and one whose handling fails stays queued."""

    def sms(message: str) -> str:
        reply = topics.inbound_sms(message, gateway, now)
        return f"inbound sms: {reply.value}" if reply is not None else "inbound sms: dropped, not an inbound SMS"

    def ses(message: str) -> str:
        suppressed = topics.ses_feedback(message, gateway, now)
        return (
            "ses feedback: dropped, not SES feedback"
            if suppressed is None
            else f"ses feedback: suppressed {suppressed}"
        )

    return {resources.INBOUND_SMS_TOPIC: sms, resources.SES_FEEDBACK_TOPIC: ses}


BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, timeout: float, ok: Callable[[requests.Response], bool]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ok(requests.get(url, timeout=2)):
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not become ready within {timeout:.0f} s")


@dataclass
class LocalStack:
    moto_port: int = 5000
    port: int = 8000
    dispatch_interval: float = 10.0
    dispatch_workers: int = 4  # threads polling the dispatch queue, as parallel Lambda instances would
    log_dir: Path | None = None
    keys_path: Path | None = None  # where the dev keys are written (make run: .gateway/dev-keys.json)
    dev_keys: dict[str, Any] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    api_env: dict[str, str] = field(default_factory=dict)  # only the API processes get these (the soak's faults)
    # Seconds the stack's clock runs ahead of the real one; None: from GATEWAY_CLOCK_AT, read once, here.
    # Every process of the stack is given this same offset, so they all run on one clock.
    clock_offset: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _schedule_stop: threading.Event = field(default_factory=threading.Event)
    _schedule: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.clock_offset is None:
            clock_at = os.environ.get("GATEWAY_CLOCK_AT")
            self.clock_offset = clock_offset(clock_at, datetime.now(UTC)) if clock_at else 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset or 0.0)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_CLOCK_"))}
        if self.clock_offset:
            env["GATEWAY_CLOCK_OFFSET_SECONDS"] = repr(self.clock_offset)
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
            UNSUBSCRIBE_SECRET=os.environ.get("UNSUBSCRIBE_SECRET", "local-stack-only-unsubscribe-key"),
            ADDRESS_INDEX_SECRET=os.environ.get("ADDRESS_INDEX_SECRET", "local-stack-only-address-index-key"),
            PUBLIC_URL=f"http://127.0.0.1:{self.port}",
            AUDIT_APPEND="stream",  # as deployed: the ledger stream's appender, polled below
            WEBHOOK_URLS="local",  # webhooks may point at receivers on this machine (http://127.0.0.1:...)
            WEBHOOK_CACHE_SECONDS="0",  # a webhook hears the very next event: the stack's loops read them each time
        )
        # Fewer shards than a deployment's default: every tick queries each one, on one moto server.
        env.setdefault("INDEX_SHARDS", "8")
        env.setdefault("DAY_SHARDS", "4")
        return env

    def settings(self) -> Settings:
        return Settings.from_env(self.env())

    def clients(self) -> Clients:
        """Clients of this process that talk to the stack's moto server, whatever this process's env says; with
        the faults of GATEWAY_FAULTS, if set, injected into them."""
        env, settings = self.env(), self.settings()
        return Clients(
            settings,
            session_factory=lambda: new_session(
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]
            ),
            wrap=faults.client_wrap(settings),
        )

    def gateway(self) -> Runtime:
        return bootstrap(settings=self.settings(), clients=self.clients())

    def _spawn(self, name: str, args: list[str], extra: dict[str, str] | None = None) -> None:
        out = open(self.log_dir / f"{name}.log", "wb") if self.log_dir else subprocess.DEVNULL  # noqa: SIM115
        env = {**self.env(), **(extra or {})}
        self.processes.append(subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))

    def spawn_api(self, port: int) -> str:
        """One more ``chalice local`` on ``port`` against this stack's moto server: a separate process with
        its own clients and caches, as another Lambda instance would be. Returns its URL."""
        chalice = [sys.executable, "-m", "tools.local.chalicelocal", "--host", "127.0.0.1", "--port", str(port)]
        self._spawn(f"chalice-{port}", [*chalice, "--stage", "dev"], {**self.api_env, "PUBLIC_URL": self.url})
        url = f"http://127.0.0.1:{port}"
        _wait_for(f"{url}/v1/health", 60, lambda r: r.status_code == 200)
        return url

    def start(self) -> LocalStack:
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self._spawn(
            "moto", [sys.executable, "-m", "tools.local.motoserver", "-H", "127.0.0.1", "-p", str(self.moto_port)]
        )
        _wait_for(f"{self.endpoint}/moto-api/", 30, lambda r: r.status_code == 200)
        if self.keys_path is not None:
            self.keys_path.unlink(missing_ok=True)  # a previous run's keys name keys this stack does not have
            clock = self.keys_path.with_name(STACK_CLOCK.name)
            clock.write_text(json.dumps({"clock_offset_seconds": self.clock_offset or 0.0}) + "\n")
        settings = self.settings()
        provision.ensure_all(self.clients(), settings)
        policy_store.publish()
        # Everything else is ready before the API starts, so that health answering 200 means all is ready:
        # a script that polls it and then reads the keys file finds this run's keys.
        self.dev_keys = self.issue_dev_keys()
        if self.dispatch_interval > 0:
            self.start_schedule()
        self._deliver_topics()
        # chalice local, answering as the deployed API does when it has no key (tools/local/chalicelocal.py)
        chalice = [sys.executable, "-m", "tools.local.chalicelocal", "--host", "127.0.0.1", "--port", str(self.port)]
        self._spawn("chalice", [*chalice, "--stage", "dev"])
        _wait_for(f"{self.url}/v1/health", 60, lambda r: r.status_code == 200)
        return self

    def start_schedule(self) -> None:
        """The dispatcher's tick every ``dispatch_interval`` seconds, and ``dispatch_workers`` threads taking
        the dispatch queue (``chalice local`` runs no schedules and no SQS triggers)."""
        self._schedule_stop.clear()
        loops = [self._dispatch_loop] + [self._dispatch_worker_loop] * self.dispatch_workers
        self._schedule = [threading.Thread(target=loop, daemon=True) for loop in loops]
        for thread in self._schedule:
            thread.start()

    def stop_schedule(self) -> None:
        """No more ticks, and the workers finish the message in hand: nothing leaves while a checker reads."""
        self._schedule_stop.set()
        for thread in self._schedule:
            thread.join(timeout=60)
        self._schedule = []

    def issue_dev_keys(self) -> dict[str, Any]:
        """Tenant ``demo`` with one key per role, written where the officer's commands and tests find them."""
        from chalicelib.domain.access import Role
        from chalicelib.services import keys

        gateway, now = self.gateway(), self.now()
        issued = {
            role.value: keys.issue_key(
                gateway.keys,
                gateway.deps,
                now,
                tenant=DEV_TENANT,
                role=role,
                name=f"local {role.value}",
                created_by="make run",
            ).key
            for role in Role
        }
        document = {"tenant": DEV_TENANT, "keys": issued}
        if self.keys_path is not None:
            self.keys_path.parent.mkdir(parents=True, exist_ok=True)
            self.keys_path.write_text(json.dumps(document, indent=2) + "\n")
            self.keys_path.chmod(0o600)
        return document

    def _subscribe(self, topic_name: str) -> str:
        """SNS -> SQS, as in AWS; the loop below hands each message to the handler Lambda would run."""
        topic = self._sns.create_topic(Name=topic_name)["TopicArn"]
        queue_url = self._sqs.create_queue(QueueName=f"{topic_name}-local")["QueueUrl"]
        attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self._sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=attributes["QueueArn"])
        return str(queue_url)

    def _deliver_topics(self) -> None:
        session = self.clients().session_factory()
        kwargs = {"region_name": "us-east-1", "endpoint_url": self.endpoint}
        self._sns, self._sqs = session.client("sns", **kwargs), session.client("sqs", **kwargs)
        handlers = topic_handlers(self.gateway(), self.now)
        queues = {self._subscribe(name): _from_sns(handler) for name, handler in handlers.items()}
        threading.Thread(target=self._topic_loop, args=(queues,), daemon=True).start()
        # Batches of contact requests: the same handler the batch worker Lambda runs, ten at a time.
        threading.Thread(target=self._batch_loop, daemon=True).start()
        # The ledger table's stream: the same handler the audit appender Lambda runs.
        threading.Thread(target=self._stream_loop, daemon=True).start()
        # Webhook messages: the same handler the webhook sender Lambda runs.
        threading.Thread(target=self._webhook_loop, daemon=True).start()
        # SNS's SMS delivery-status log groups: the same handler their subscription filters invoke.
        threading.Thread(target=self._sms_status_loop, daemon=True).start()
        # Exports get their own worker, as their own Lambda: a long export holds up no reply.
        exports_url = self._sqs.get_queue_url(QueueName=self.settings().export_queue)["QueueUrl"]
        threading.Thread(target=self._topic_loop, args=({exports_url: self._export_handler()},), daemon=True).start()

    def _export_handler(self) -> Callable[[str], str]:
        gateway = self.gateway()

        def run(body: str) -> str:
            try:
                (done,) = queues.export_worker([body], gateway, self.now)
            except NotFoundError as exc:  # dropped, as the queue's redrive would after the Lambda's retries
                return f"export: dropped, no such export job: {exc}"
            job = done.get("export_id") or done.get("impact_id")  # the queue carries policy impact jobs too
            return f"export {job}: {done.get('status')}"

        return run

    def _batch_loop(self) -> None:
        gateway = self.gateway()
        url = self._sqs.get_queue_url(QueueName=gateway.settings.batch_queue)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
                ).get("Messages", [])
                if not messages:
                    self._stop.wait(0.5)
                    continue
                batch_worker.batch_worker(batch_worker.sqs_event(arn, "us-east-1", messages), gateway, self.now)
                gateway.batch_queue.delete_many([(m["MessageId"], m["ReceiptHandle"]) for m in messages])
            except batch_worker.BatchIncompleteError as exc:
                print(f"batch worker: {exc}", flush=True)  # as Lambda: the failed ones come back later
            except Exception as exc:  # noqa: BLE001 - the next round asks again
                if not self._stop.is_set():
                    print(f"batch worker: failed, will retry: {exc}", flush=True)
                self._stop.wait(0.5)

    def _webhook_loop(self) -> None:
        """What Lambda's SQS trigger hands ``app.webhook_sender``: ten messages at a time; the ones it reports
        as failed stay on the queue and come back."""
        gateway = self.gateway()
        url = self._sqs.get_queue_url(QueueName=gateway.settings.webhook_queue)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not messages:
                    self._stop.wait(0.25)
                    continue
                event = batch_worker.sqs_event(arn, "us-east-1", messages)
                answer = webhook_worker.webhook_worker(event, gateway, self.now)
                print(f"webhooks: {answer['outcomes']}", flush=True)
                failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
                done = [(m["MessageId"], m["ReceiptHandle"]) for m in messages if m["MessageId"] not in failed]
                gateway.webhooks.queue.delete_many(done)  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001 - the next round asks again
                if not self._stop.is_set():
                    print(f"webhook sender: failed, will retry: {exc}", flush=True)
                self._stop.wait(0.5)

    def _stream_loop(self) -> None:
        """Polls the ledger table's stream as Lambda's event source mapping does, from its oldest record."""
        gateway = self.gateway()
        session = self.clients().session_factory()
        streams = session.client("dynamodbstreams", region_name="us-east-1", endpoint_url=self.endpoint)
        iterators: dict[str, str] = {}
        while not self._stop.is_set():
            try:
                if not iterators:
                    iterators = self._stream_iterators(gateway, streams)
                busy = False
                for shard, iterator in list(iterators.items()):
                    page = streams.get_records(ShardIterator=iterator, Limit=100)
                    if page["Records"]:
                        busy = True
                        audit_appender.audit_stream(page, gateway)
                    if page.get("NextShardIterator"):
                        iterators[shard] = page["NextShardIterator"]
                    else:  # a closed shard: once all are read, the stream is described again
                        del iterators[shard]
                if not busy:
                    self._stop.wait(0.25)
            except Exception as exc:  # noqa: BLE001 - as Lambda: the same records come again
                if not self._stop.is_set():
                    print(f"audit appender: failed, will retry: {exc}", flush=True)
                self._stop.wait(0.5)  # the failed page is asked for again: its iterator did not move

    def _sms_status_loop(self) -> None:
        """Polls the delivery-status log groups as their subscription filters would deliver them: each new line
        to ``sms_status``, in a subscription event; a line whose handling fails is handed over again."""
        gateway = self.gateway()
        logs = self.clients().session_factory().client("logs", region_name="us-east-1", endpoint_url=self.endpoint)
        groups, seen = provision.ensure_sms_log_groups(logs), set()
        while not self._stop.is_set():
            try:
                for group in groups:
                    found = logs.filter_log_events(logGroupName=group).get("events", [])
                    for line in [e for e in found if e["eventId"] not in seen]:
                        event = receipt_sources.subscription_event(group, [line["message"]], line["timestamp"])
                        print(f"sms status: {receipts_entry.sms_status(event, gateway, self.now)}", flush=True)
                        seen.add(line["eventId"])
            except Exception as exc:  # noqa: BLE001 - as Lambda's retries: the same line comes again
                if not self._stop.is_set():
                    print(f"sms status: failed, will retry: {exc}", flush=True)
            self._stop.wait(0.5)

    def _stream_iterators(self, gateway: Runtime, streams: Any) -> dict[str, str]:
        table = gateway.clients.dynamodb.describe_table(TableName=gateway.settings.ledger_table)["Table"]
        arn = table["LatestStreamArn"]
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        return {
            shard["ShardId"]: streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for shard in shards
        }

    def _topic_loop(self, queues: dict[str, Callable[[str], str]]) -> None:
        while not self._stop.is_set():
            idle = True
            for queue_url, handler in queues.items():
                idle = self._drain(queue_url, handler) and idle
            if idle:
                self._stop.wait(0.5)

    def _drain(self, queue_url: str, handler: Callable[[str], str]) -> bool:
        # No long polling: the local moto server applies one request at a time, and a long poll
        # would hold every other AWS call of the stack behind it.
        try:
            messages = self._sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        except Exception as exc:  # noqa: BLE001 - the next round asks again
            if not self._stop.is_set():
                print(f"topic delivery: receive failed: {exc}", flush=True)
            return True
        for message in messages:  # one bad message must not hold back the others
            try:
                print(handler(message["Body"]), flush=True)
            except Exception as exc:  # noqa: BLE001 - stays queued and is retried, like a failed Lambda
                print(f"topic delivery: failed, will retry: {exc}", flush=True)
                continue
            self._sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return not messages

    def dispatch_once(self) -> dispatch.DispatchReport:
        return dispatch.run_dispatcher(self.gateway().deps, self.now())

    def _dispatch_loop(self) -> None:
        """The schedule's tick: one message per shard on the dispatch queue (the workers below take them)."""
        gateway = self.gateway()
        next_audit_pass = 0.0
        while not self._stop.wait(self.dispatch_interval) and not self._schedule_stop.is_set():
            try:
                dispatch.tick(
                    gateway.deps, gateway.dispatch_queue, self.now(), timedelta(seconds=self.dispatch_interval)
                )
                if time.monotonic() >= next_audit_pass:  # the daily schedule in AWS; idempotent, so hourly here
                    tenants = maintenance.every_scope(gateway.keys)
                    audit = maintenance.audit_pass(gateway.deps, tenants, self.now())
                    print(f"audit pass: {audit}", flush=True)
                    next_audit_pass = time.monotonic() + AUDIT_PASS_INTERVAL
            except Exception as exc:  # noqa: BLE001 - the timer keeps going; the next tick retries
                print(f"dispatcher: tick failed: {exc}", flush=True)

    def _dispatch_worker_loop(self) -> None:
        """One dispatch worker: what Lambda's SQS trigger hands ``app.dispatch_worker``, through the same
        ``entrypoints.queues.dispatch_worker``. A delivery with a failed message stays on the queue and comes
        back whole, as in AWS (handling a message again sends nothing twice)."""
        gateway = self.gateway()
        sqs, url = gateway.clients.sqs, ""  # its own client: the stack's are made after the workers start
        while not self._stop.is_set() and not self._schedule_stop.is_set():
            try:
                url = url or sqs.get_queue_url(QueueName=gateway.settings.dispatch_queue)["QueueUrl"]
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not messages:
                    self._stop.wait(0.5)
                    continue
                reports = queues.dispatch_worker([m["Body"] for m in messages], gateway, self.now)
                for report in reports:
                    if report.dispatched or report.repaired_events:
                        print(f"dispatcher: {report.statuses} repaired={report.repaired_events}", flush=True)
                gateway.dispatch_queue.delete_many([(m["MessageId"], m["ReceiptHandle"]) for m in messages])
            except Exception as exc:  # noqa: BLE001 - the message comes back; the next round asks again
                if not self._stop.is_set():
                    print(f"dispatch worker: failed, will retry: {exc}", flush=True)
                self._stop.wait(0.5)

    def stop(self) -> None:
        self._stop.set()
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
