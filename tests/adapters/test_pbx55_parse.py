"""The 55pbx push parser: the seed's own example, types as meant, and never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callhub.adapters.pbx55.parse import Phase, PushRejected, parse_push
from callhub.store.models import CallDirection

ZONE = ZoneInfo("America/Sao_Paulo")
SEED_EXAMPLE = (Path(__file__).parent / "55pbx_seed_example.txt").read_bytes()


def body(**fields: object) -> bytes:
    return json.dumps({"call_id": "c-1", **fields}).encode()


def test_the_seed_example_as_printed() -> None:
    push = parse_push(SEED_EXAMPLE, ZONE)
    assert push.call_id == "1479477009.5199"
    assert push.branch == "5000"  # a number in the body
    assert push.call_date == datetime(2012, 5, 1, 15, 30, tzinfo=UTC)  # 12:30 in São Paulo
    assert push.direction is CallDirection.active
    assert push.full_number == "+5511987654321"
    assert push.disconnection == "externo"
    assert (push.talk_seconds, push.wait_seconds, push.duration_seconds) == (11, 8, 3)
    assert push.tax == Decimal("0.58") and push.cost == Decimal("0.58")
    assert push.balance == Decimal("9999759.12")
    assert push.url_audio is not None and "audio-2016-11-18_11-50-09" in push.url_audio
    assert push.audio_file is not None and push.audio_file.startswith("audio-2016-11-18_11")
    assert push.transfer_id == "1479477009.5198"
    assert push.terminal is None and push.document is None  # "" is absent
    assert push.phase is Phase.transfer


def test_strings_and_numbers_taken_as_meant() -> None:
    push = parse_push(
        body(
            branch_mask="5001",
            call_time="42",
            call_duration=50.0,
            call_cost="1,25",
            call_number=987654321,
            call_area_code=11,
            call_type="receptivo",
            call_date="2024-03-10T08:00:00-03:00",
        ),
        ZONE,
    )
    assert push.branch == "5001" and push.talk_seconds == 42 and push.duration_seconds == 50
    assert push.cost == Decimal("1.25")
    assert push.number == "987654321" and push.area_code == "11"
    assert push.direction is CallDirection.receptive
    assert push.call_date == datetime(2024, 3, 10, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "phase"),
    [
        ({"call_type": "receptivo"}, Phase.start),
        ({"call_duration": 0, "call_disconnection": ""}, Phase.start),
        ({"call_duration": 30}, Phase.end),
        ({"call_disconnection": "cliente"}, Phase.end),
        ({"call_url_audio": "https://x/a.wav"}, Phase.end),
        ({"call_duration": 30, "call_transfer_id": "c-2"}, Phase.transfer),
        ({"call_transfer_id": "c-1"}, Phase.start),  # naming itself is no transfer
    ],
)
def test_phase(fields: dict[str, object], phase: Phase) -> None:
    assert parse_push(body(**fields), ZONE).phase is phase


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (body(call_time="onze"), "call_time"),
        (body(call_time=-3), "call_time"),
        (body(branch_mask="ramal 5"), "branch_mask"),
        (body(call_date="ontem"), "call_date"),
        (body(call_number={"n": 1}), "call_number"),
        (body(call_queue=True), "call_queue"),
        (body(call_ura="x" * 300), "call_ura"),
        (json.dumps({"branch_mask": 5000}).encode(), "call_id"),
    ],
)
def test_bad_fields_are_named(raw: bytes, field: str) -> None:
    with pytest.raises(PushRejected) as caught:
        parse_push(raw, ZONE)
    assert caught.value.field == field and caught.value.message
    assert field in caught.value.message


def test_escaped_surrogate_pairs_are_joined_in_both_forms() -> None:
    assert parse_push(rb'{"call_id": "\ud83d\udcde"}', ZONE).call_id == "\U0001f4de"
    assert parse_push(rb'{"call_id": "\ud83d\udcde",}', ZONE).call_id == "\U0001f4de"


@pytest.mark.parametrize(
    "raw",
    [rb'{"call_id": "\ud800"}', rb'{"call_id": "a\udc00",}', rb'{"\ud800": 1, "call_id": "a"}'],
)
def test_lone_surrogates_are_400(raw: bytes) -> None:
    with pytest.raises(PushRejected) as caught:
        parse_push(raw, ZONE)
    assert caught.value.message


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"[1, 2]", b'"text"', b"{not json", b"\xff\xfe", b'{"call_id": "a"} trailing'],
)
def test_bad_bodies_are_400(raw: bytes) -> None:
    with pytest.raises(PushRejected) as caught:
        parse_push(raw, ZONE)
    assert caught.value.message


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
FIELD_NAMES = st.sampled_from(
    ["call_id", "branch_mask", "call_date", "call_time", "call_cost", "call_number", "call_type"]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(FIELD_NAMES | st.text(max_size=10), JSON_VALUES, max_size=8))
def test_any_object_parses_or_is_a_clean_400(data: dict[str, object]) -> None:
    raw = json.dumps(data, allow_nan=True).encode()
    try:
        push = parse_push(raw, ZONE)
    except PushRejected as exc:
        assert exc.message
    else:
        assert push.call_id


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_parse_or_are_a_clean_400(raw: bytes) -> None:
    try:
        parse_push(raw, ZONE)
    except PushRejected as exc:
        assert exc.message
