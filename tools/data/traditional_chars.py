"""Builds chalicelib/domain/traditional_chars.json: each traditional Chinese character zhconv turns into one
simplified character, as two strings of equal length. The content rules fold a message with this table
(``str.translate``) instead of importing zhconv, whose full phrase table takes tens to hundreds of
milliseconds to read on the first Chinese message of a cold function; matching needs characters only.

    python -m tools.data.traditional_chars    # after upgrading zhconv; tests/unit/test_traditional_chars.py checks it
"""

from __future__ import annotations

import json
from typing import Any

from tools import ROOT

TABLE = ROOT / "chalicelib" / "domain" / "traditional_chars.json"


def build() -> dict[str, Any]:
    from importlib.metadata import version

    from zhconv import zhconv

    pairs = sorted((k, v) for k, v in zhconv.getdict("zh-cn").items() if len(k) == 1 and len(v) == 1 and k != v)
    return {
        "zhconv": version("zhconv"),
        "traditional": "".join(k for k, _ in pairs),
        "simplified": "".join(v for _, v in pairs),
    }


def main() -> None:
    table = build()
    TABLE.write_text(json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n", "utf-8")
    print(f"{TABLE.name}: {len(table['traditional'])} characters from zhconv {table['zhconv']}")


if __name__ == "__main__":
    main()
