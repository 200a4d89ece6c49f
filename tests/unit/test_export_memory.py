"""An export streams: its peak memory does not grow with the number of events.

The exporter runs over in-memory stand-ins of its own ports (an audit trail that generates chained
events on demand and keeps none, a bucket that writes to local files, a local ECDSA key), so what
``tracemalloc`` measures is the exporter alone: moto would hold every stored byte in this process.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.export_memory import export
from chalicelib.domain.audit import line_hash
from tools.cli.bundle import verify_bundle


def test_an_export_ten_times_longer_streams_with_memory_independent_of_its_size(tmp_path: Path) -> None:
    # The same 400 chains, ten times longer: what the exporter keeps per chain (the manifest's entries) is
    # the same, so only holding events could make the peak grow. The ratio of the sizes is what tells growth
    # from noise, not the count: 40,000 events (17 MiB of lines) weigh some fifteen times the peak already
    # (``make bench`` exports 100,000 the same way).
    small, small_peak = export(400, tmp_path / "small", per_chain=10)  # 4,000 events
    large, large_peak = export(400, tmp_path / "large", per_chain=100)  # 40,000 events
    assert (small["counts"]["events"], large["counts"]["events"]) == (4_000, 40_000)
    print(f"peak memory: {small_peak / 2**20:.2f} MiB at 4k events, {large_peak / 2**20:.2f} MiB at 40k")
    assert large_peak < 1.25 * small_peak, (small_peak, large_peak)
    bundle = tmp_path / "large" / "exports" / "t" / "ex_memory"
    jsonl = bundle / "events.jsonl"
    assert jsonl.stat().st_size > 10 * large_peak  # the file is far larger than anything held in memory
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["files"]["events.jsonl"]["sha256"] == hashlib.sha256(jsonl.read_bytes()).hexdigest()
    assert manifest["files"]["events.csv"]["rows"] == 40_000
    assert len(manifest["chains"]) == 400
    checked = verify_bundle(bundle)  # offline, as a regulator would: signature, files, every link
    assert checked.ok, checked.problems[:5]


def test_every_exported_chain_links_from_its_first_event_to_its_head(tmp_path: Path) -> None:
    manifest, _ = export(5, tmp_path)
    lines = (tmp_path / "exports" / "t" / "ex_memory" / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    for chain in manifest["chains"]:
        mine = [e for e in events if e["debtor_id"] == chain["debtor_id"]]
        # masked lines (the default) link through the content_hash they carry
        assert all(line_hash(e) == e["hash"] for e in mine)
        assert [e["prev_hash"] for e in mine[1:]] == [e["hash"] for e in mine[:-1]]
        assert [e["seq"] for e in mine] == list(range(mine[0]["seq"], mine[0]["seq"] + len(mine)))
        assert (mine[0]["seq"], mine[-1]["hash"]) == (chain["first_seq"], chain["head_hash"])


def test_the_manifest_signature_is_over_its_checksum_file(tmp_path: Path) -> None:
    export(2, tmp_path)
    bundle = tmp_path / "exports" / "t" / "ex_memory"
    checksum = (bundle / "manifest.sha256").read_bytes()
    assert (
        checksum.decode() == f"{hashlib.sha256((bundle / 'manifest.json').read_bytes()).hexdigest()}  manifest.json\n"
    )
    key = serialization.load_pem_public_key((bundle / "public-key.pem").read_bytes())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify((bundle / "manifest.sig").read_bytes(), checksum, ec.ECDSA(hashes.SHA256()))
