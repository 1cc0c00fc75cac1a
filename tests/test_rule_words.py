"""Segment rules read as sentences in the operator's language: names for ids, yuan for fen, local times."""

from datetime import UTC, datetime

from yutang.web.i18n import load_translations
from yutang.web.rule_words import Words, explain_tree, observed, rule_tree, sentence

RULE = {"all": [
    {"type": "tag", "tag_ids": [4, 5], "match": "all"},
    {"type": "order", "measure": "spend", "op": "between", "value": [10000, 50050],
     "window": {"kind": "last_days", "days": 30}},
    {"not": {"type": "attribute", "field": "city", "op": "in", "value": ["上海", "北京"]}},
    {"type": "event", "event": "Segment Entered", "measure": "count", "op": "gte", "value": 2},
    {"type": "lifecycle_stage", "stages": ["at_risk", "dormant"]},
]}


def words(locale: str) -> Words:
    return Words(load_translations()[locale].gettext, tags={4: "兴趣 / 绿茶", 5: "兴趣 / 白茶"},
                 channels={7: "天猫旗舰店"}, timezone="Asia/Shanghai")


def test_a_rule_reads_as_chinese_sentences():
    tree = rule_tree(RULE, words("zh_CN"))
    assert tree["text"] == "同时满足以下全部条件"
    lines = [child["text"] for child in tree["children"]]
    assert lines[0] == "同时带有标签：兴趣 / 绿茶、兴趣 / 白茶"
    assert lines[1] == "近 30 天的消费金额 介于 ¥100.00 至 ¥500.50"
    assert tree["children"][2]["text"] == "不满足以下条件"
    assert tree["children"][2]["children"][0]["text"] == "城市 属于 上海、北京"
    assert lines[3] == "事件「进入分群」不限时间的次数 至少 2"
    assert lines[4] == "生命周期阶段为 流失风险、沉睡客户 之一"


def test_the_same_rule_in_english_and_observed_values_in_units():
    tree = rule_tree(RULE, words("en"))
    assert [c["text"] for c in tree["children"]][:2] == [
        "Has all of the tags 兴趣 / 绿茶, 兴趣 / 白茶",
        "Purchases in the last 30 days: spend between ¥100.00 and ¥500.50"]
    zh = words("zh_CN")
    assert observed({"type": "order", "measure": "spend"}, 123456, zh) == "¥1,234.56"
    assert observed({"type": "order", "measure": "last_purchase"}, datetime(2026, 12, 4, 16, 30, tzinfo=UTC), zh) \
        == "2026-12-05 00:30"
    assert observed({"type": "tag"}, [5], zh) == "兴趣 / 白茶"
    first_touch = {"type": "channel", "channel_ids": [7, 8], "relation": "first_touch"}
    assert sentence(first_touch, zh) == "首次来自 天猫旗舰店、#8"


def test_an_explanation_carries_each_node_verdict_and_what_was_seen():
    node = {"node": "all", "held": False, "children": [
        {"node": "order", "held": False, "condition": RULE["all"][1], "observed": 8800}]}
    tree = explain_tree(node, words("zh_CN"))
    assert tree["held"] is False and tree["children"][0]["seen"] == "¥88.00"
