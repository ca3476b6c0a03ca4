"""Consecutive stream items travel in batches bounded by count and size, in order, none left out."""

from __future__ import annotations

from typing import Any

from query_service.stream import notices


def item(n: int, size: int = 10) -> dict[str, Any]:
    return {"position": f"{n}-0", "previous": f"{n - 1}-0", "event": "e" * size, "document": "null"}


def test_batches_keep_every_item_in_order_within_their_bounds() -> None:
    items = [item(n, size=1000 if n % 7 else 200_000) for n in range(1, 301)]
    messages = notices.batch_messages(items)
    assert all(message["type"] == notices.BATCH_TYPE for message in messages)
    assert [i for message in messages for i in message["items"]] == items
    for message in messages:
        assert 1 <= len(message["items"]) <= notices.BATCH_ITEMS
        sizes = [len(i["event"]) + len(i["document"]) for i in message["items"]]
        assert len(sizes) == 1 or sum(sizes) <= notices.BATCH_BYTES


def test_a_quiet_stream_sends_one_item_a_message_and_an_oversized_item_travels_alone() -> None:
    assert notices.batch_messages([item(1)]) == [{"type": notices.BATCH_TYPE, "items": [item(1)]}]
    big = item(2, size=notices.BATCH_BYTES + 1)
    assert [len(m["items"]) for m in notices.batch_messages([item(1), big, item(3)])] == [1, 1, 1]
    assert notices.batch_messages([]) == []
