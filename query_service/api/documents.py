"""The documents each list returns, as named OpenAPI schemas derived from the read models' mappings.

A list answers the `_source` fields it asks for (`query_service.search`), with the aggregate's version field
renamed `version` (`gateway.with_version`). Each schema here is built from exactly those two facts and the mapping
of each field (`read_models.models`), so the documented document cannot drift from what is indexed and served;
`tests/integration/query_service/test_query_openapi.py` validates real answers against them.
"""

from __future__ import annotations

from typing import Any

from query_service.search import authors, comments, posts
from read_models.documents import LIST_VALUED_FIELDS
from read_models.models import AUTHORS, COMMENTS, POSTS, ReadModel

# OpenSearch field types as OpenAPI types (every type the read models' mappings use).
TYPES: dict[str, dict[str, Any]] = {
    "keyword": {"type": "string"},
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "long": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date-time"},
}
REQUIRED = ("id", "version")
HIGHLIGHTS = {
    "type": "object",
    "description": "With `q`: the matching fragments of each field, the terms in `<mark>`.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


def field_schema(mapping: dict[str, Any], *, many: bool = False) -> dict[str, Any]:
    """The OpenAPI schema of one mapped field: an object for `properties`, else its type (null when unset)."""
    if "properties" in mapping:
        inner = {name: field_schema(sub) for name, sub in mapping["properties"].items()}
        return {"type": "object", "properties": inner, "additionalProperties": False, "nullable": True}
    schema = {**TYPES[mapping["type"]], "nullable": True}
    return {"type": "array", "items": TYPES[mapping["type"]]} if many else schema


def document_schema(model: ReadModel, fields: list[str], version_field: str, **extra: dict[str, Any]) -> dict[str, Any]:
    """The schema of the documents a list of `model` returns: `fields` as mapped, `version_field` named `version`."""
    mapped = model.mappings["properties"]
    many = LIST_VALUED_FIELDS.get(model.name, ())
    properties = {
        ("version" if name == version_field else name): field_schema(mapped[name], many=name in many) for name in fields
    }
    for name in REQUIRED:  # every document has its id and the version that built it
        properties[name] = {key: value for key, value in properties[name].items() if key != "nullable"}
    return {"type": "object", "properties": {**properties, **extra}, "required": list(REQUIRED),
            "additionalProperties": False}  # fmt: skip


# The list operation -> (component name, its document schema).
DOCUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "post_search": ("PostDocument", document_schema(POSTS, posts.LIST_FIELDS, "post_version", highlights=HIGHLIGHTS)),
    "post_comment_list": ("CommentDocument", document_schema(COMMENTS, comments.FIELDS, "comment_version")),
    "author_list": ("AuthorDocument", document_schema(AUTHORS, authors.FIELDS, "user_version")),
}


def typed_pages(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """A postprocessing hook of drf-spectacular: each list's page names its document type (`PostPage.results` is
    a list of `PostDocument`), instead of the untyped envelope the view declares."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    envelope = components.get("Page")
    if envelope is None:
        return result
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if operation.get("operationId") not in DOCUMENTS:
                continue
            name, schema = DOCUMENTS[operation["operationId"]]
            page = f"{name.removesuffix('Document')}Page"
            components[name] = schema
            components[page] = {
                **envelope,
                "properties": {**envelope["properties"], "results": {"type": "array",
                                                                    "items": {"$ref": f"#/components/schemas/{name}"}}},
            }  # fmt: skip
            operation["responses"]["200"]["content"]["application/json"]["schema"] = {
                "$ref": f"#/components/schemas/{page}"
            }
    if not any(ref_to(result, "Page")):
        del components["Page"]
    return result


def ref_to(node: Any, name: str) -> list[str]:
    """Every `$ref` to component `name` inside `node`."""
    target = f"#/components/schemas/{name}"
    if isinstance(node, dict):
        found = [target] if node.get("$ref") == target else []
        return found + [ref for value in node.values() for ref in ref_to(value, name)]
    if isinstance(node, list):
        return [ref for value in node for ref in ref_to(value, name)]
    return []
