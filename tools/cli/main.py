"""``./gateway``: the command line of the contact gateway."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib import policy_store
from chalicelib.domain.policy import PolicyError
from tools.cli import campaign, keys_cli, officer, replay_cli, template_lint, templates_cli
from tools.cli.client import CliError

if TYPE_CHECKING:
    import requests

CURL_EXAMPLE = """\
  export KEY=$(python3 -c 'import json; print(json.load(open(".gateway/dev-keys.json"))["keys"]["submitter"])')
  curl -s -X POST {url}/v1/contacts -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{{
    "debtor_id": "d-100", "account_id": "a-100", "channel": "sms", "to": "+16175550100",
    "location": {{"country": "US", "subdivision": "MA", "postal_code": "02108"}},
    "message": {{"body": "Your payment of $120 is overdue. Reply STOP to opt out."}}}}'"""


def cmd_local(args: argparse.Namespace) -> int:
    from tools.local.stack import DEV_KEYS, ROOT, LocalStack

    stack = LocalStack(
        moto_port=int(os.environ.get("MOTO_PORT", "5000")),
        port=int(os.environ.get("PORT", "8000")),
        dispatch_interval=float(os.environ.get("DISPATCH_INTERVAL", "10")),
        log_dir=ROOT / ".gateway" / "logs",
        keys_path=DEV_KEYS,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    try:
        stack.start()
        print(f"contact gateway ready at {stack.url} (moto server at {stack.endpoint})")
        print(f"logs in {stack.log_dir}; dispatcher every {stack.dispatch_interval:g} s; Ctrl-C stops everything")
        if stack.clock_offset:
            print(f"clock (GATEWAY_CLOCK_AT): every process of the stack runs from {stack.now():%Y-%m-%dT%H:%M:%SZ}")
        print(f"tenant {stack.dev_keys['tenant']!r}, one API key per role (also in {DEV_KEYS}):")
        for role, key in stack.dev_keys["keys"].items():
            print(f"  {role:<11} {key}")
        print("try:\n" + CURL_EXAMPLE.format(url=stack.url), flush=True)
        while all(p.poll() is None for p in stack.processes):
            time.sleep(0.5)
        print("a child process exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def cmd_policy_check(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [policy_store.SOURCE_DIR]
    try:
        policy_set = policy_store.load_sources(paths)
    except PolicyError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 1
    for pack in policy_set.packs:
        print(f"ok: {pack.id} ({len(pack.rules)} rules)")
    print(f"policy version {policy_set.version}")
    return 0


def cmd_policy_table(args: argparse.Namespace) -> int:
    policy_set = policy_store.load_sources()
    print(policy_store.markdown_table(policy_set))
    print(policy_store.retention_table(policy_set), end="")
    return 0


def cmd_policy_publish(args: argparse.Namespace) -> int:
    try:
        policy_set = policy_store.publish()
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "version": policy_set.version,
                "bundle": str(policy_store.POLICY_BUNDLE_PATH),
                "packs": [p.id for p in policy_set.packs],
            }
        )
    )
    return 0


def cmd_whatif(args: argparse.Namespace) -> int:
    import yaml

    from tools import whatif

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
        document = yaml.safe_load(text)
        result = whatif.run(document, policy_store.load_sources())
    except (OSError, yaml.YAMLError) as exc:
        print(f"whatif: cannot read scenario: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except whatif.ScenarioError as exc:
        print(f"whatif: invalid scenario: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_sms_inbound(args: argparse.Namespace) -> int:
    """Publish a reply to the local inbound topic exactly as AWS two-way SMS would."""
    from chalicelib import resources

    message = {
        "originationNumber": args.from_number,
        "destinationNumber": args.to_number,
        "messageKeyword": args.body.split()[0].upper() if args.body.split() else "",
        "messageBody": args.body,
        "inboundMessageId": str(uuid.uuid4()),
        "previousPublishedMessageId": "",
    }
    published = _publish(resources.INBOUND_SMS_TOPIC, message)
    print(json.dumps({"published": published, "inboundMessageId": message["inboundMessageId"]}))
    return 0


# ``--type``, in any case (the old lowercase ones too): SES's name of each
SES_TYPES = {n.lower(): n for n in ("Bounce", "Complaint", "Delivery", "DeliveryDelay", "Reject")}


def ses_event(kind: str, email: str, message_id: str, soft: bool, at: datetime) -> dict[str, object]:
    """An SES event of ``kind`` (any case) as the configuration set publishes it; bounces and complaints as the
    feedback notifications did (``notificationType``), the others as events (``eventType``)."""
    name, stamp = SES_TYPES[kind.lower()], at.isoformat().replace("+00:00", "Z")
    mail = {"messageId": message_id, "timestamp": stamp, "destination": [email]}
    details: dict[str, object] = {
        "Bounce": {
            "bounceType": "Transient" if soft else "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": email}],
            "timestamp": stamp,
        },
        "Complaint": {"complainedRecipients": [{"emailAddress": email}], "timestamp": stamp},
        "Delivery": {"recipients": [email], "timestamp": stamp},
        "DeliveryDelay": {
            "delayType": "MailboxFull",
            "delayedRecipients": [{"emailAddress": email}],
            "timestamp": stamp,
        },
        "Reject": {"reason": "Bad content"},
    }
    key = "notificationType" if name in ("Bounce", "Complaint") else "eventType"
    return {key: name, "mail": mail, name[0].lower() + name[1:]: details[name]}


def cmd_ses_feedback(args: argparse.Namespace) -> int:
    """Publish an SES event to the local feedback topic, as SES would."""
    from chalicelib import resources

    message_id = args.message_id or str(uuid.uuid4())
    message = ses_event(args.type, args.email, message_id, args.soft, datetime.now(UTC))
    print(json.dumps({"published": _publish(resources.SES_FEEDBACK_TOPIC, message), "messageId": message_id}))
    return 0


def cmd_sms_status(args: argparse.Namespace) -> int:
    """Write one SNS delivery-status line to the local log group, as SNS would; the local stack hands it to
    the same handler the subscription filter invokes in AWS."""
    from chalicelib.domain.model import DeliveryStatus
    from chalicelib.services.receipt_sources import SNS_TEMPORARY, sns_line
    from tools.local.provision import put_sms_status

    status = DeliveryStatus(args.status)
    if status is DeliveryStatus.TEMPORARY_FAILURE and args.code and args.code not in SNS_TEMPORARY:
        # SNS's response is its only code: any other failure response is read as permanent.
        print(f"error: a temporary failure's --code is one of {sorted(SNS_TEMPORARY)}", file=sys.stderr)
        return 2
    line = sns_line(args.provider_message_id, status, _stack_now(), args.code)
    group = put_sms_status(_local_client("logs"), line, failed=status is not DeliveryStatus.DELIVERED)
    print(json.dumps({"log_group": group, "providerMessageId": args.provider_message_id, "status": status.value}))
    return 0


def _stack_now() -> datetime:
    """Now by the local stack's clock, as SNS stamps a receipt: the clock settings in the environment (GATEWAY_CLOCK_AT,
    or the offset the stack gives the processes it starts), else the clock make run's stack wrote, else the real one."""
    from chalicelib.settings import Settings
    from tools.local.stack import STACK_CLOCK

    offset = Settings.from_env().clock_offset_seconds
    if not offset and not os.environ.get("GATEWAY_CLOCK_AT") and STACK_CLOCK.exists():
        offset = float(json.loads(STACK_CLOCK.read_text()).get("clock_offset_seconds") or 0.0)
    return datetime.now(UTC) + timedelta(seconds=offset)


def _local_client(service: str) -> object:
    import boto3

    endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}"
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _publish(topic_name: str, message: Mapping[str, object]) -> str:
    import boto3

    endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}"
    sns = boto3.client(
        "sns",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    topic = sns.create_topic(Name=topic_name)["TopicArn"]
    return str(sns.publish(TopicArn=topic, Message=json.dumps(message))["MessageId"])


def cmd_dispatch(args: argparse.Namespace) -> int:

    from chalicelib.bootstrap import bootstrap
    from chalicelib.services import dispatch

    report = dispatch.run_dispatcher(bootstrap().deps, datetime.now(UTC))
    print(json.dumps(report.__dict__))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gateway", description="Compliance-aware contact gateway")
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("local", help="run the local stack (moto server + chalice local + dispatcher)").set_defaults(
        func=cmd_local
    )
    policy = sub.add_parser("policy", help="policy packs").add_subparsers(dest="policy_command", required=True)
    check = policy.add_parser("check", help="validate packs; prints each error with file and field")
    check.add_argument("paths", nargs="*", help="pack files or folders (default: policies/)")
    check.set_defaults(func=cmd_policy_check)
    policy.add_parser("table", help="print the markdown table of packs and rules").set_defaults(func=cmd_policy_table)
    policy.add_parser("publish", help="validate policies/ and write the bundle the Lambda loads").set_defaults(
        func=cmd_policy_publish
    )
    whatif = sub.add_parser("whatif", help="would this contact be allowed at T, and if not, when?")
    whatif.add_argument("file", help="scenario in YAML or JSON; - for standard input")
    whatif.set_defaults(func=cmd_whatif)
    inbound = sub.add_parser("sms-inbound", help="publish an inbound SMS reply to the local stack's topic")
    inbound.add_argument("--from", dest="from_number", required=True, help="the person's number (E.164)")
    inbound.add_argument("--to", dest="to_number", required=True, help="our sending number")
    inbound.add_argument("--body", required=True)
    inbound.set_defaults(func=cmd_sms_inbound)
    ses = sub.add_parser("ses-feedback", help="publish an SES event (bounce, complaint, receipt) to the local topic")
    ses.add_argument(
        "--type",
        type=str.lower,
        choices=sorted(SES_TYPES),
        required=True,
        help="Bounce, Complaint, Delivery, DeliveryDelay or Reject (any case)",
    )
    ses.add_argument("--email", required=True)
    ses.add_argument("--message-id", help="the SES message id (the send's provider_message_id); default: a new one")
    ses.add_argument("--soft", action="store_true", help="a transient (soft) bounce")
    ses.set_defaults(func=cmd_ses_feedback)
    status = sub.add_parser("sms-status", help="write an SNS SMS delivery status to the local stack's log group")
    status.add_argument("provider_message_id", metavar="PROVIDER_MESSAGE_ID", help="the send's provider_message_id")
    status.add_argument("status", metavar="STATUS", choices=["delivered", "temporary_failure", "permanent_failure"])
    status.add_argument("--code", help="the provider's response (default: one SNS gives for STATUS)")
    status.set_defaults(func=cmd_sms_status)
    sub.add_parser("dispatch", help="run the dispatcher once against the configured AWS endpoint").set_defaults(
        func=cmd_dispatch
    )
    officer.add_commands(sub)
    keys_cli.add_commands(sub)
    campaign.add_commands(sub)
    template_lint.add_commands(sub)
    templates_cli.add_commands(sub)
    replay_cli.add_commands(sub)
    return root


def main(argv: list[str] | None = None, session: requests.Session | None = None) -> int:
    """``session`` carries the HTTP calls of the audit and export commands (tests route it in-process)."""
    args = parser().parse_args(argv)
    args.session = session
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (| head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
