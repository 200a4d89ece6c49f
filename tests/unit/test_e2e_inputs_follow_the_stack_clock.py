"""End-to-end tests pick their inputs (an open number, a night zone, tomorrow) by the stack's clock,
``stack.now()``, which runs at GATEWAY_CLOCK_AT when it is set: never by the machine's real time, so a
run does not pass or fail by the hour it starts."""

from __future__ import annotations

import ast
from pathlib import Path

E2E = Path(__file__).resolve().parents[1] / "e2e"
# It builds its own stack on a clock it sets from the real one, just before the herd's instant.
OWN_CLOCK = {"test_dispatch_herd.py"}


def real_clock_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name in ("utcnow", "datetime.now", "datetime.utcnow", "date.today"):  # time.time() only times waits
            found.append(f"{path.name}:{node.lineno} {name}()")
    return found


def test_no_e2e_test_reads_the_real_clock_for_its_inputs():
    files = sorted(p for p in E2E.glob("test_*.py") if p.name not in OWN_CLOCK)
    assert files
    assert [hit for path in files for hit in real_clock_reads(path)] == []


def test_the_check_finds_a_real_clock_read(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("from datetime import datetime\nnow = datetime.now()\nother = utcnow()\n")
    assert real_clock_reads(sample) == ["test_sample.py:2 datetime.now()", "test_sample.py:3 utcnow()"]
