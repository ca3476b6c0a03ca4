"""The consistency token both services share: what the command side writes, the query side reads back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.consistency import ConsistencyToken, token_parse
from events.types import AGGREGATE_TYPES


@given(
    aggregate_type=st.sampled_from(AGGREGATE_TYPES),
    aggregate_id=st.integers(min_value=1, max_value=10**19 - 1),
    version=st.integers(min_value=1, max_value=10**12 - 1),
)
def test_a_written_token_parses_back_to_itself(aggregate_type: str, aggregate_id: int, version: int) -> None:
    token = ConsistencyToken(aggregate_type, str(aggregate_id), version)
    assert token_parse(token.encode()) == token
    assert token_parse(f"  {token.encode()} ") == token


def test_the_header_value_is_type_id_and_version() -> None:
    assert ConsistencyToken("post", "12", 3).encode() == "post:12:3"


@pytest.mark.parametrize(
    "raw", ["", "post", "post:12", "post:12:", "tag:1:1", "post:x:1", "post:1:-1", "post:1:1:1", "POST:1:1",
            "post:" + "9" * 20 + ":1", "post:1:" + "9" * 13]
)  # fmt: skip
def test_anything_else_is_refused_with_the_expected_form(raw: str) -> None:
    with pytest.raises(ValueError, match=r"must be <user\|post\|comment>:<id>:<version>"):
        token_parse(raw)
