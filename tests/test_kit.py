"""Pure helpers: phones, masking, money, time, cursors (no database)."""

from datetime import UTC, datetime

import pytest

from yutang.kit.clock import parse_local
from yutang.kit.errors import Invalid
from yutang.kit.money import fen_to_yuan_text, yuan_to_fen
from yutang.kit.pagination import decode_cursor, encode_cursor
from yutang.kit.pii import keyed_hash, mask_email, mask_name, mask_phone, normalise_phone


@pytest.mark.parametrize("raw,e164", [("13800138000", "+8613800138000"), ("+86 138-0013-8000", "+8613800138000"),
                                      ("008613800138000", "+8613800138000"), ("+1 650 253 0000", "+16502530000")])
def test_phones_normalise_to_e164(raw, e164):
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "abc", "", "1380013800"])
def test_bad_phones_are_refused(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_masking():
    assert mask_phone("+8613812341234") == "138****1234"
    assert mask_email("lilei@example.com") == "l***@example.com"
    assert mask_name("王芳") == "王**"


def test_keyed_hash_depends_on_the_key():
    assert keyed_hash("a", "+8613800138000") != keyed_hash("b", "+8613800138000")
    assert keyed_hash("a", "+8613800138000") == keyed_hash("a", "+8613800138000")


@pytest.mark.parametrize("text,fen", [("12.30", 1230), ("0.01", 1), ("1,234.5", 123450), (99, 9900), ("-3.2", -320)])
def test_yuan_to_fen_is_exact(text, fen):
    assert yuan_to_fen(text) == fen


def test_sub_fen_amounts_are_refused():
    with pytest.raises(ValueError):
        yuan_to_fen("0.001")
    with pytest.raises(ValueError):
        yuan_to_fen("abc")
    assert fen_to_yuan_text(1230) == "12.30" and fen_to_yuan_text(-5) == "-0.05"


def test_naive_times_are_read_in_the_workspace_zone():
    assert parse_local("2026-11-11 00:00:00", assume_zone="Asia/Shanghai") == datetime(2026, 11, 10, 16, tzinfo=UTC)
    assert parse_local("2026-11-11T00:00:00+00:00", assume_zone="Asia/Shanghai") == datetime(2026, 11, 11, tzinfo=UTC)


def test_cursors_round_trip_and_reject_tampering():
    assert decode_cursor(encode_cursor(42)) == 42
    assert decode_cursor(None) is None
    with pytest.raises(Invalid):
        decode_cursor("eyJhZnRlciI6ICJ4In0")  # {"after": "x"}
