"""Kafka cluster ids for `kafka-storage format`: never read as an option by its argument parser."""

from __future__ import annotations

import base64

from infra.kafka.service import _cluster_id


def test_cluster_ids_are_16_random_bytes_and_never_start_with_a_dash() -> None:
    ids = [_cluster_id() for _ in range(5000)]  # without the guard, about 1 in 64 would start with "-"

    assert not [cluster_id for cluster_id in ids if cluster_id.startswith("-")]
    assert len(set(ids)) == len(ids)
    assert all(len(base64.urlsafe_b64decode(cluster_id + "==")) == 16 for cluster_id in ids)
