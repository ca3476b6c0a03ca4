"""The operator's side of the projector: the `python -m projector` commands and what they run.

Status, dead-letter replay, verification against the command database, zero-downtime rebuilds and index management
(create, swap, list, use, delete). They reuse the consumer's code (`projector.consumer`), so what an operation writes
is what the live projector would write; the consumer never imports them.
"""
