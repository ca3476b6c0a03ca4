"""The request body parser of the API."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

STRUCTURE_MAX = 1_000
"""The most objects, arrays and object members a body may hold, counted before it is decoded.

The API's bodies hold one object of a few members and at most one list (tags); a body at the 1 MiB limit can hold
350,000 objects or arrays, which Python takes 100 ms and more to decode (and as long to collect). Scalars are not
counted: a list of 60,000 tags is refused by the tags' own rule, which says so.
"""
_CHUNK = 64 * 1024


def structure_count(text: str, *, limit: int = STRUCTURE_MAX) -> int:
    """How many `{`, `[` and `:` a JSON document holds outside its strings (exact for valid JSON) -- or, once they are
    over `limit`, some number over it. At C speed: counts, replaces and splits, 64 KiB at a time."""
    count = text.count("{") + text.count("[") + text.count(":")
    if count <= limit:
        return count  # an upper bound, and a small one: no need to tell which are inside strings
    plain = text.replace("\\\\", "").replace('\\"', "")  # now every quote opens or closes a string
    count, in_string = 0, False
    for start in range(0, len(plain), _CHUNK):
        pieces = plain[start : start + _CHUNK].split('"')
        outside = "".join(pieces[1::2] if in_string else pieces[::2])
        count += outside.count("{") + outside.count("[") + outside.count(":")
        if count > limit:
            break
        in_string ^= len(pieces) % 2 == 0  # an odd number of quotes in this chunk
    return count


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, except that a body of over STRUCTURE_MAX objects, arrays and members is refused before it
    is decoded, and JSON nested deeper than Python can decode is a 400, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
            if structure_count(text) > STRUCTURE_MAX:
                raise ParseError(f"JSON parse error - more than {STRUCTURE_MAX} objects, arrays and object members")
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
