"""The one painless script every projector write goes through: version-guarded facets.

Params: `id`; `defaults` (set only where absent); `facets` [{guard, version, set}]: each field of `set` is written
only if `version` is newer than the version that last wrote that field (kept in `field_versions`, per guard), and
`guard` becomes the highest version seen. Per-field versions make an aggregate's events commute: they give the same
document in any order, so two writers (a rebuild and the live projector) may share an index, and several events of
one document fold into one write (their facets in order). Nothing newer: the operation is a no-op, so replays and
stale events change nothing. The work is bounded by the fields written, never by the document's history (counts are
recomputed from member documents: `projector.consumer.counts`).

Both scripts end with the tombstone rule (`read_models.documents.tombstone_stripped`): a deleted post or comment, or
an erased author, keeps none of its personal fields, whichever write made it a tombstone and whatever is written to
it later (an author's profile rewrite, a lookup's fold: facets of other guards than the aggregate's own).
"""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

from projector.consumer.plans import Upsert
from read_models.documents import PERSONAL_FIELDS, TOMBSTONE_FLAGS, tombstone_stripped

SCRIPT_ID = "projector-apply-v4"

# One version-guarded field loop, shared by both scripts (`facets` is bound by each script's opening).
_FACETS = """if (s.field_versions == null) { s.field_versions = new HashMap(); }
def fv = s.field_versions;
for (f in facets) {
  long version = ((Number) f.version).longValue();
  for (e in f.set.entrySet()) {
    String key = f.guard + ':' + e.getKey();
    long have = fv[key] == null ? 0L : ((Number) fv[key]).longValue();
    if (version > have) { s[e.getKey()] = e.getValue(); fv[key] = version; changed = true; }
  }
  def cur = s[f.guard];
  if (cur == null || version > ((Number) cur).longValue()) { s[f.guard] = version; changed = true; }
}
"""
_PERSONAL = ", ".join(f"'{name}'" for name in PERSONAL_FIELDS)
_TOMBSTONE = " || ".join(f"s.{flag} == true" for flag in TOMBSTONE_FLAGS)
_END = f"""
if ({_TOMBSTONE}) {{
  for (def holder : [s, s.author]) {{
    if (holder instanceof Map) {{
      for (String name : [{_PERSONAL}]) {{
        if (holder.containsKey(name)) {{ holder.remove(name); changed = true; }}
      }}
    }}
  }}
}}
if (!changed) {{ ctx.op = 'noop'; }}
"""
SOURCE = (
    """
def s = ctx._source;
boolean changed = false;
if (s.id == null) { s.id = params.id; changed = true; }
for (e in params.defaults.entrySet()) {
  if (!s.containsKey(e.getKey())) { s[e.getKey()] = e.getValue(); changed = true; }
}
def facets = params.facets;
"""
    + _FACETS
    + _END
)

# update_by_query over many documents at once: each picks its own facets by its key (a post id, an author id).
REWRITE_SCRIPT_ID = "projector-rewrite-v2"
REWRITE_SOURCE = (
    """
def s = ctx._source;
boolean changed = false;
def owner = params.key_field == 'author.id' ? (s.author == null ? null : s.author.id) : s[params.key_field];
def facets = owner == null ? null : params.by_key[String.valueOf(owner)];
if (facets == null) { ctx.op = 'noop'; return; }
"""
    + _FACETS
    + _END
)


def install_scripts(client: OpenSearch) -> None:
    """Store the scripts under their ids (idempotent); a changed script gets a new id, never an in-place edit."""
    client.put_script(id=SCRIPT_ID, body={"script": {"lang": "painless", "source": SOURCE}})
    client.put_script(id=REWRITE_SCRIPT_ID, body={"script": {"lang": "painless", "source": REWRITE_SOURCE}})


def apply_in_memory(document: dict[str, Any] | None, upsert: Upsert) -> dict[str, Any]:
    """What the apply script (SOURCE) makes of `document` (None: absent) for `upsert`, computed in Python.

    The rebuild's fold (`projector.operations.fold`) builds documents with it before bulk-loading them, so they must
    be the script's, field versions included; `tests/integration/projector/test_fold.py` holds both to that. Like
    the script, it changes the document in place (and returns it, or the new one).
    """
    s = {} if document is None else document
    if s.get("id") is None:
        s["id"] = upsert.doc_id
    for key, value in upsert.defaults.items():
        s.setdefault(key, value)
    versions = s.setdefault("field_versions", {})
    for facet in upsert.facets:
        for key, value in facet.set.items():
            guarded = f"{facet.guard}:{key}"
            if facet.version > versions.get(guarded, 0):
                s[key] = value
                versions[guarded] = facet.version
        if s.get(facet.guard) is None or facet.version > s[facet.guard]:
            s[facet.guard] = facet.version
    tombstone_stripped(s)
    return s
