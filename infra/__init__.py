"""Local infrastructure: the real PostgreSQL, Redis, Kafka and OpenSearch as processes, without Docker.

`python -m infra up|down|status|env|exec` (wrapped by `make services`, `make services-down`, ...) manages them.
"""
