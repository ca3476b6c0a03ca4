"""The one painless script every projector write goes through: version-guarded facets and counted members.

Params: `id`; `defaults` (set only where absent); `facets` [{guard, version, set}]: each field of `set` is written
only if `version` is newer than the version that last wrote that field (kept in `field_versions`, per guard), and
`guard` becomes the highest version seen. Per-field versions make an aggregate's events commute: they give the same
document in any order, so two writers (a rebuild and the live projector) may share an index. `members` [{map,
count, id, version, alive, at, last}]: the member's entry in `map` becomes [±version, at] if `version` is newer
than the entry's, then `count` is recounted over live entries and `last` (when given) set to the newest `at` of a
live entry. Nothing newer: the operation is a no-op, so replays and stale events change nothing.
"""

from __future__ import annotations

from opensearchpy import OpenSearch

SCRIPT_ID = "projector-apply-v2"

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
_END = """
if (!changed) { ctx.op = 'noop'; }
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
    + """for (m in params.members) {
  if (s[m.map] == null) { s[m.map] = new HashMap(); }
  def states = s[m.map];
  def entry = states[m.id];
  long have = entry == null ? 0L : ((Number) entry[0]).longValue();
  if (have < 0L) { have = -have; }
  long version = ((Number) m.version).longValue();
  if (version > have) {
    def at = m.at != null ? m.at : (entry == null ? null : entry[1]);
    states[m.id] = [m.alive ? version : -version, at];
    long count = 0L;
    def last = null;
    for (v in states.values()) {
      if (((Number) v[0]).longValue() > 0L) {
        count++;
        if (v[1] != null && (last == null || ((String) v[1]).compareTo((String) last) > 0)) { last = v[1]; }
      }
    }
    s[m.count] = count;
    if (m.last != null) { s[m.last] = last; }
    changed = true;
  }
}
"""
    + _END
)

# update_by_query over many documents at once: each picks its own facets by its key (a post id, an author id).
REWRITE_SCRIPT_ID = "projector-rewrite-v1"
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
