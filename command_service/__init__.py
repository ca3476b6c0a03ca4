"""The write side: Django + DRF views over pure-Python services/ and domain/, with a transactional outbox.

`bootstrap.py` wires the views' adapters (apps/: the Django unit of work, repositories, detail queries, idempotency
store); `relay/` is the second process, which publishes the outbox to Kafka.

Built under the command-service issue; see ../shared/DESIGN.md for its layout.
"""
