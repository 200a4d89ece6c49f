"""The capacity bench counts DynamoDB units by DynamoDB's own size rules (moto's figure ignores item size)."""

from __future__ import annotations

from bench.cost import item_size


def test_item_size_follows_dynamodbs_rules():
    # names and string values by their UTF-8 bytes; numbers about one byte per two digits, plus one
    assert item_size({"pk": {"S": "local#d-1"}}) == 2 + 9
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"s": {"S": "逾期"}}) == 1 + 6
    assert item_size({"m": {"M": {"a": {"S": "x"}}}}) == 1 + 3 + (1 + 1 + 1)


def test_a_five_kilobyte_item_is_five_write_units_not_one():
    import math

    item = {"pk": {"S": "p"}, "body": {"S": "x" * 5000}}
    assert math.ceil(item_size(item) / 1024) == 5
