"""Two workers on one redelivered export message: the bundle still verifies, and a late failure leaves the
job done."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from chalicelib.bootstrap import Runtime
from chalicelib.services import exports
from tests.support import LATER, audited_texts
from tools.cli.bundle import verify_bundle


class _SignsAfterAnotherWorker:
    """Worker A's signer: while A is signing, SQS redelivers the message (its visibility timeout ran
    out) and worker B builds the whole export."""

    def __init__(self, inner: Any, other_worker: Any) -> None:
        self.inner, self.other_worker = inner, other_worker
        self.ALGORITHM, self.key_id = inner.ALGORITHM, inner.key_id

    def sign(self, message: bytes) -> bytes:
        if self.other_worker:
            other, self.other_worker = self.other_worker, None
            other()
        return bytes(self.inner.sign(message))

    def public_key_pem(self) -> str:
        return str(self.inner.public_key_pem())


def test_two_workers_on_a_redelivered_message_leave_a_bundle_that_verifies(gateway: Runtime, tmp_path: Path):
    audited_texts(gateway)
    deps = gateway.deps
    spec = exports.ExportSpec(debtor_id="d-1", formats=("jsonl", "csv", "pdf"))
    export_id = exports.request_export("local", spec, deps, LATER)["export_id"]

    def worker_b() -> None:
        exports.run_export("local", export_id, deps, lambda: LATER + timedelta(minutes=1))

    worker_a = replace(deps, signer=_SignsAfterAnotherWorker(deps.signer, worker_b))
    exports.run_export("local", export_id, worker_a, lambda: LATER)

    job = exports.export_status("local", export_id, deps, LATER + timedelta(minutes=2))
    assert job["status"] == "done"
    for listed in job["files"]:
        response = requests.get(listed["url"], timeout=10)
        assert response.status_code == 200, listed["name"]
        (tmp_path / listed["name"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / listed["name"]).write_bytes(response.content)
    report = verify_bundle(tmp_path, deps.signer.public_key_pem())
    assert report.problems == []


def test_a_worker_that_fails_after_another_finished_leaves_the_job_done(gateway: Runtime):
    audited_texts(gateway)
    deps = gateway.deps
    export_id = exports.request_export("local", exports.ExportSpec(debtor_id="d-1"), deps, LATER)["export_id"]

    class FailsAfterAnotherWorker(_SignsAfterAnotherWorker):
        def sign(self, message: bytes) -> bytes:
            super().sign(message)
            raise RuntimeError("KMS said no")

    def worker_b() -> None:
        exports.run_export("local", export_id, deps, lambda: LATER)

    exports.run_export(
        "local", export_id, replace(deps, signer=FailsAfterAnotherWorker(deps.signer, worker_b)), lambda: LATER
    )
    assert exports.export_status("local", export_id, deps, LATER)["status"] == "done"
