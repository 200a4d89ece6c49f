"""Compiled bytecode inside the deployment zip, so that a cold start does not compile the package's source.

Lambda unpacks the zip into ``/var/task``, which is read-only: Python cannot write ``__pycache__`` there, so
without bytecode in the zip every new instance compiles every module it imports (about 150 ms of CPU for
the gateway's own code, bench's ``cold_init_s_packaged_*``). Each ``.py`` gets its
``__pycache__/<name>.cpython-XY.pyc`` beside it, compiled by the interpreter that runs ``chalice package``,
whose version is the functions' runtime (Chalice takes it from that interpreter).

The bytecode is hash-checked (PEP 552): Python compares a hash of the source with the one in the ``.pyc``
and ignores modification times, which unzipping does not keep reliably. A source changed after the
build is compiled afresh rather than run stale.
"""

from __future__ import annotations

import importlib.util
import py_compile
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

LAMBDA_ROOT = "/var/task"  # where the runtime unpacks the code: the file names tracebacks show


def add_bytecode(archive: Path) -> int:
    """Add a hash-checked ``.pyc`` for each ``.py`` of ``archive`` that has none; returns how many were added.
    The entries already there are copied as they are, in their order."""
    with tempfile.TemporaryDirectory() as scratch:
        rebuilt = Path(scratch) / archive.name
        added = 0
        with zipfile.ZipFile(archive) as source, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
            present = set(source.namelist())
            for info in source.infolist():
                target.writestr(info, source.read(info))
            for info in source.infolist():
                name = PurePosixPath(info.filename)
                if name.suffix != ".py" or info.is_dir():
                    continue
                cached = importlib.util.cache_from_source(str(name))
                if cached in present:
                    continue
                target.writestr(_entry(cached, info), _compiled(source.read(info), name, Path(scratch)))
                added += 1
        shutil.move(rebuilt, archive)
    return added


def _entry(name: str, like: zipfile.ZipInfo) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=like.date_time)
    entry.external_attr = like.external_attr  # the source's permissions (readable by the runtime's user)
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def _compiled(source: bytes, name: PurePosixPath, scratch: Path) -> bytes:
    """``source`` compiled as ``/var/task/<name>`` would be, as the bytes of its hash-checked ``.pyc``."""
    work = scratch / "compile"
    work.mkdir(exist_ok=True)
    src, out = work / "module.py", work / "module.pyc"
    src.write_bytes(source)
    py_compile.compile(
        str(src),
        cfile=str(out),
        dfile=f"{LAMBDA_ROOT}/{name}",
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )
    return out.read_bytes()
