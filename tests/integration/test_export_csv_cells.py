"""events.csv opens in a spreadsheet as data: no cell starts a formula, masked addresses stay readable."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from chalicelib.bootstrap import Runtime
from chalicelib.services import dispatch, exports
from chalicelib.services.contacts import submit_contact
from tests.support import LATER, NOON_ATLANTA, audited_texts, make_request


def test_no_cell_of_events_csv_starts_a_spreadsheet_formula(gateway: Runtime):
    audited_texts(gateway)
    submit_contact(
        make_request(channel="email", to="=cmd|'/Ccalc'!A0@example.com", message={"subject": "s", "body": "b"}),
        gateway.deps,
        NOON_ATLANTA + timedelta(hours=1),
    )
    dispatch.sweep_audit(gateway.deps, LATER)
    spec = exports.ExportSpec(debtor_id="d-1", formats=("csv",))
    export_id = exports.request_export("local", spec, gateway.deps, LATER)["export_id"]
    job = exports.run_export("local", export_id, gateway.deps, lambda: LATER)
    [listed] = [f for f in job["files"] if f["name"] == "events.csv"]
    raw = gateway.clients.s3.get_object(Bucket=gateway.settings.export_bucket, Key=listed["key"])["Body"].read()
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    masked = {r["to_masked"] for r in rows if r["to_masked"]}
    assert masked == {"'+1404•••0100", "'=•••0@example.com"}  # still readable, but text
    assert not [cell for row in rows for cell in row.values() if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
