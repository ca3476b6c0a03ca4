"""Postprocessing hooks of drf-spectacular for the query API (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""

from __future__ import annotations

from typing import Any


def anonymous_operations(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """No operation takes credentials: drop drf-spectacular's `security: [{}]` ("no credentials, optionally"), which
    clients generated from the document read as "credentials required" (an authenticated client for every call)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if operation.get("security") == [{}]:
                del operation["security"]
    return result
