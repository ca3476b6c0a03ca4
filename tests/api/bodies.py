"""Request bodies of exactly the size limit (DATA_UPLOAD_MAX_MEMORY_SIZE), in the shapes a client can give one.

Shared by the API tests (tests/api/test_input_bounds_api.py) and the benchmark that times them (bench/bounds.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

LIMIT = 1024 * 1024  # the command service's DATA_UPLOAD_MAX_MEMORY_SIZE


def at_limit(head: str, item: str, tail: str, *, limit: int = LIMIT) -> bytes:
    """`head`, `item` as many times as fit, `tail`, padded with spaces (JSON whitespace) to exactly `limit` bytes."""
    fixed = len(head.encode()) + len(tail.encode())
    raw = (head + item * ((limit - fixed) // len(item.encode())) + tail).encode()
    assert len(raw) <= limit, len(raw)
    return raw + b" " * (limit - len(raw))


def many_keys(head: str, *, limit: int = LIMIT) -> bytes:
    """An object of as many distinct keys (`"k0": 0, ...`) as fit after `head`, padded to exactly `limit` bytes."""
    parts, size = [head], len(head) + 1
    for n in itertools.count():
        part = f',"k{n}":0'
        if size + len(part) > limit:
            break
        parts.append(part)
        size += len(part)
    return at_limit("".join(parts), " ", "}", limit=limit)


def huge_string(field: str, others: dict[str, str] | None = None, *, char: str = "x") -> bytes:
    """An object whose `field` is one string filling the limit, beside `others` (short valid fields)."""
    head = "{" + "".join(f'"{name}":"{value}",' for name, value in (others or {}).items()) + f'"{field}":"'
    return at_limit(head, char, '"}')


_NEST = 400  # deep, but within what Python's JSON decoder accepts
_NESTED = '{"a":' * _NEST + "0" + "}" * _NEST

POST = '{"title":"t","content":"c",'

# name -> the body, for the post-create endpoint (other endpoints see unknown fields, or a body of the wrong shape).
SHAPES: dict[str, Callable[[], bytes]] = {
    "an array of numbers": lambda: at_limit("[0", ",0", "]"),
    "an array of objects": lambda: at_limit("[{}", ",{}", "]"),
    "tags: short strings": lambda: at_limit(POST + '"tags":["a"', ',"a"', "]}"),
    "tags: distinct strings": lambda: at_limit(POST + '"tags":["a"', ',"b"', "]}"),
    "tags: numbers": lambda: at_limit(POST + '"tags":[0', ",0", "]}"),
    "tags: nested objects": lambda: at_limit(POST + f'"tags":[{_NESTED}', f",{_NESTED}", "]}"),
    "tags: one huge tag": lambda: at_limit(POST + '"tags":["', "a", '"]}'),
    "a huge content": lambda: huge_string("content", {"title": "t"}),
    "a huge title": lambda: huge_string("title", {"content": "c"}),
    "a huge content of escapes": lambda: at_limit('{"title":"t","content":"', "\\u00e9", '"}'),
    "a huge content of surrogates": lambda: at_limit('{"title":"t","content":"', "\\ud800", '"}'),
    "a huge number": lambda: at_limit('{"title":', "9", "}"),
    "a huge float": lambda: at_limit('{"title":1', "0", ".5}"),
    "many unknown fields": lambda: many_keys(POST[:-1]),
    "one huge unknown field": lambda: at_limit('{"', "k", '":0}'),
    "objects nested deeper than Python decodes": lambda: at_limit("", '{"a":', ""),
    "lists nested deeper than Python decodes": lambda: at_limit("", "[", ""),
    "objects nested deep, many times": lambda: at_limit(f'{{"title":[{_NESTED}', f",{_NESTED}", "]}"),
}
