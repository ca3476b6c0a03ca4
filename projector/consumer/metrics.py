"""Prometheus metrics of the projector (served on PROJECTOR_METRICS_PORT by `python -m projector run`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_PROCESSED = Counter("projector_events_processed_total", "Events applied or ignored", ["event_type"])
EVENTS_FAILED = Counter("projector_events_failed_total", "Events whose application failed", ["event_type"])
DEAD_LETTERED = Counter("projector_dead_lettered_total", "Messages written to the dead-letter topic", ["kind"])
CONSUMER_LAG = Gauge("projector_consumer_lag", "Messages behind the end of a partition", ["topic", "partition"])
COMMIT_TO_SEARCHABLE = Gauge(
    "projector_commit_to_searchable_seconds", "From the command-side commit of the newest applied event to searchable"
)
BATCH_SECONDS = Gauge("projector_last_batch_seconds", "Duration of the last batch")
COMMITS_REFUSED = Counter("projector_commits_refused_total", "Batches whose commit a rebalance refused (read again)")
REJOINS = Counter("projector_rejoins_total", "Consumers replaced because their commits stayed refused")
NOTICES_LOST = Counter("projector_notices_lost_total", "Notices not written because Redis failed (the batch went on)")
NOTICE_GAPS = Counter("projector_notice_gaps_total", "Gap markers written to the notice stream after lost notices")
