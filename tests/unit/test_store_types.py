"""The store's own AttributeValue (de)serializer agrees with boto3's on everything the store writes."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st
from socialcare.store import _DE, _SER, from_item, to_item

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_serialize_matches_boto3(value: Any) -> None:
    assert _SER.serialize(value) == TypeSerializer().serialize(value)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_deserialize_matches_boto3(value: Any) -> None:
    wire = TypeSerializer().serialize(value)
    assert _DE.deserialize(wire) == TypeDeserializer().deserialize(wire)


def test_sets_binary_and_round_trip() -> None:
    for wire in ({"SS": ["a", "b"]}, {"NS": ["1", "2.5"]}, {"B": b"\x00\x01"}, {"BS": [b"x"]}):
        assert _DE.deserialize(wire) == TypeDeserializer().deserialize(wire)
    item = {"PK": "CASE#SC-1", "n": 3, "f": 1.5, "nested": {"a": [1, None, True, "x"]}, "gone": None}
    assert from_item(to_item(item)) == {k: v for k, v in item.items() if v is not None}
