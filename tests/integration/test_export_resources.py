"""The export resources as provisioned: bundles expire with their links, and a running export is not
handed to a second worker while it runs."""

from __future__ import annotations

from chalicelib.services import exports
from tools.local import provision


def test_bundles_expire_a_day_after_their_links(gateway):
    rules = gateway.clients.s3.get_bucket_lifecycle_configuration(Bucket=gateway.settings.export_bucket)["Rules"]
    [rule] = [r for r in rules if r["ID"] == "expire-export-bundles"]
    assert rule["Status"] == "Enabled" and rule["Expiration"]["Days"] == exports.AVAILABLE_FOR.days + 1


def test_the_export_queue_hides_a_message_longer_than_a_worker_runs(gateway):
    url = gateway.clients.sqs.get_queue_url(QueueName=gateway.settings.export_queue)["QueueUrl"]
    attributes = gateway.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert int(attributes["Attributes"]["VisibilityTimeout"]) == provision.EXPORT_VISIBILITY_SECONDS > 15 * 60
