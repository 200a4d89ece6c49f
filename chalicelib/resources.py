"""The names of the AWS resources the functions use, when the environment names none: each once.

``Settings`` takes its defaults from here, and the triggers in app.py are bound to these names; a
deployment's template passes each stage's own names in the environment, and binds the triggers to its own
resources. The local stack (tools/local/provision.py) creates them under these names.
"""

from __future__ import annotations

# Tables
LEDGER_TABLE = "gateway-ledger"
AUDIT_TABLE = "gateway-audit"
IDEMPOTENCY_TABLE = "gateway-idempotency"
JOBS_TABLE = "gateway-jobs"
KEYS_TABLE = "gateway-keys"  # API keys by hash, and the list of tenants
BATCH_TABLE = "gateway-batches"  # batches of contact requests and each request's result
TEMPLATES_TABLE = "gateway-templates"  # message templates and their versions, a partition per tenant
WEBHOOK_TABLE = "gateway-webhooks"  # each tenant's webhooks, and their recent delivery attempts

# Buckets and the signing key
EXPORT_BUCKET = "gateway-exports"
ANCHOR_BUCKET = "gateway-anchors"  # Object Lock: daily anchors of the audit chains
SIGNING_KEY = "alias/gateway-export-signing"  # asymmetric KMS key (ECC_NIST_P256)
WEBHOOK_KEY = "alias/gateway-webhook-secrets"  # symmetric KMS key sealing webhooks' signing secrets

# Queues: each worker's SQS trigger is bound to its name
EXPORT_QUEUE = "gateway-exports"  # export jobs
BATCH_QUEUE = "gateway-contact-batches"  # batches of contact requests, ten requests a message
DISPATCH_QUEUE = "gateway-dispatch"  # the dispatcher's fan-out: shard messages, then people messages
WEBHOOK_QUEUE = "gateway-webhooks"  # webhook messages, each posted to its receiver and retried from here

# Topics: inbound SMS replies, and SES bounce and complaint notifications
INBOUND_SMS_TOPIC = "gateway-inbound-sms"
SES_FEEDBACK_TOPIC = "gateway-ses-feedback"
TOPICS = (INBOUND_SMS_TOPIC, SES_FEEDBACK_TOPIC)
