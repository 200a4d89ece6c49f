"""The traditional-to-simplified table stands in for zhconv: it must say what zhconv says, character by
character, and fold what the content rules read."""

from __future__ import annotations

import json

from zhconv import convert

from chalicelib.domain.content_text import fold
from tools.data import traditional_chars


def test_the_committed_table_is_the_one_this_zhconv_builds():
    committed = json.loads(traditional_chars.TABLE.read_text("utf-8"))
    assert committed == traditional_chars.build(), "zhconv changed: run python -m tools.data.traditional_chars"
    assert len(committed["traditional"]) == len(committed["simplified"]) > 4000


def test_a_traditional_message_folds_as_zhconv_converts_it():
    message = "【安信銀行】你這個騙子，再不還錢就爆你通訊錄，聯繫你的單位，讓你坐牢。"
    assert fold(message).text == convert(message, "zh-cn").replace("，", ",")
