"""The app's logs go through Powertools alone, at its level, whatever stdout is when app.py is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Imported while stdout is not the stream Powertools' handler holds (as under a test runner's capture, or a
# wrapper that swaps stdout): Chalice must not add its own handler or lower the logger to ERROR, which
# would drop every INFO line (decisions, sends) from the function's logs.
PROBE = """
import io, logging, sys
import chalicelib.observability
sys.stdout = io.StringIO()
import app
log = logging.getLogger("contact-gateway")
sys.stdout = sys.__stdout__
print(logging.getLevelName(log.getEffectiveLevel()), len(log.handlers))
"""


def test_importing_the_app_leaves_the_powertools_logger_at_info_with_one_handler():
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["INFO", "1"]
