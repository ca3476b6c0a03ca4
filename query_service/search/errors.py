"""The query service's errors: one root, mapped to HTTP statuses by `query_service.api.errors`."""


class QueryError(Exception):
    """Root of the query service's own errors."""


class InvalidParameter(QueryError):
    """A request parameter is malformed; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ReadModelUnavailable(QueryError):
    """OpenSearch cannot be reached or answered with an error: the read side is unavailable for now."""
