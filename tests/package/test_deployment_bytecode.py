"""The deployment zip carries hash-checked bytecode for each module, and Python uses it from a read-only copy
of the zip, as Lambda's runtime would from /var/task (tools/infra/bytecode.py)."""

from __future__ import annotations

import importlib.util
import marshal
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

FLAGS_CHECKED_HASH = 0b11  # PEP 552: hash-based, checked against the source at import


def test_each_module_of_the_zip_has_hash_checked_bytecode_naming_var_task(packaged: Path) -> None:
    with zipfile.ZipFile(packaged / "deployment.zip") as zipped:
        names = set(zipped.namelist())
        sources = sorted(n for n in names if n.endswith(".py"))
        assert "chalicelib/domain/engine.py" in sources
        for source in sources:
            cached = importlib.util.cache_from_source(source)
            assert cached in names, source
            pyc = zipped.read(cached)
            assert int.from_bytes(pyc[4:8], "little") == FLAGS_CHECKED_HASH, source
            assert pyc[8:16] == importlib.util.source_hash(zipped.read(source)), source
        code = marshal.loads(zipped.read(importlib.util.cache_from_source("chalicelib/domain/engine.py"))[16:])
    assert code.co_filename == "/var/task/chalicelib/domain/engine.py"


def test_python_imports_the_zips_bytecode_from_a_read_only_copy(packaged: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(packaged / "deployment.zip") as zipped:
        zipped.extractall(tmp_path)
    for path in tmp_path.rglob("*"):  # read-only, as /var/task: nothing can be compiled and written there
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-v", "-c", "import chalicelib.domain.engine"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    engine = tmp_path / "chalicelib" / "domain"
    assert f"code object from '{engine / importlib.util.cache_from_source('engine.py')}'" in done.stderr
    assert f"{engine / importlib.util.cache_from_source('engine.py')} matches {engine / 'engine.py'}" in done.stderr
    assert f"code object from {engine / 'engine.py'}\n" not in done.stderr  # how a compile from source reads
    for path in tmp_path.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)  # so that pytest can remove it
