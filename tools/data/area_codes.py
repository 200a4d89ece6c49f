"""Builds chalicelib/domain/nanp_places.json: the subdivision of each +1 number prefix, from phonenumbers'
geocoding data. The gateway reads this small table instead of importing ``phonenumbers.geocoder``, which
loads every language's geodata (a third of a cold start) to answer one question for +1 numbers.

    python -m tools.data.area_codes      # after upgrading phonenumbers; tests/unit/test_area_codes.py checks it
"""

from __future__ import annotations

import json
from typing import Any

from tools import ROOT

TABLE = ROOT / "chalicelib" / "domain" / "nanp_places.json"
NAMES = TABLE.with_name("subdivision_names.json")


def _code(description: str, names: dict[str, str]) -> str:
    """What zones.py made of the geocoder's description: "Boston, MA" -> "MA", "Massachusetts" -> "MA"."""
    return description.rsplit(", ", 1)[1] if ", " in description else names.get(description, "")


def build() -> dict[str, Any]:
    import phonenumbers
    from phonenumbers.geodata import GEOCODE_DATA

    names = {name: code for country in json.loads(NAMES.read_text()).values() for name, code in country.items()}
    full = {p: _code(d["en"], names) for p, d in GEOCODE_DATA.items() if p.startswith("1") and "en" in d}
    kept: dict[str, str] = {}
    for prefix in sorted(full, key=lambda p: (len(p), p)):
        inherited = next((kept[prefix[:n]] for n in range(len(prefix) - 1, 0, -1) if prefix[:n] in kept), "")
        if full[prefix] != inherited:
            kept[prefix] = full[prefix]
    return {"phonenumbers": phonenumbers.__version__, "longest": max(map(len, kept)), "prefixes": kept}


def main() -> None:
    table = build()
    TABLE.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n")
    print(f"{TABLE.name}: {len(table['prefixes'])} prefixes from phonenumbers {table['phonenumbers']}")


if __name__ == "__main__":
    main()
