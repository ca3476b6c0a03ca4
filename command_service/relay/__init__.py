"""The outbox relay, the command service's second process: it publishes committed outbox rows to Kafka.

`relay.py` is the loop, `leases.py` shares the outbox shards between relays, `publisher.py` talks to Kafka and
`wake_up.py` waits for a commit. The rows themselves are the outbox app's (`apps/outbox/models.py`). This package is
a Django app only so that `python -m command_service outbox_relay` finds its management command.
"""
