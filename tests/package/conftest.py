from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.infra import package


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``chalice package`` merged with the resources, as ``make package`` builds it (without wheels)."""
    out = tmp_path_factory.mktemp("package")
    package.template_only(out)
    return out


@pytest.fixture(scope="session")
def template(packaged: Path) -> dict[str, Any]:
    return json.loads((packaged / "sam.json").read_text())
