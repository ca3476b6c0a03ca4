"""The read side: OpenSearch-only lists and search, and the live WebSocket event stream (no database).

Built under the query-service issue.
"""
