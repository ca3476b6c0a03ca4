"""Kafka in, OpenSearch out: denormalized read models, idempotent and order-safe, rebuildable, with dead letters.

Built under the projector issue.
"""
