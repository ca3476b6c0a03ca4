"""The read-model contract: what the projector writes and the query service reads, defined once on neither side.

The projector builds documents, notices and progress records; the query service searches the documents, fans the
notices out and reports the progress. Both sides import these definitions from here, so the query service never
imports the projector (whose internals may change freely) and the two cannot drift apart. Pure Python: only the
standard library, `events` and `runtime.settings`.

Modules:
    models: the read models' index bodies and mapping versions.
    documents: what a document carries for readers (bookkeeping removed, the aggregate-version field).
    indices: how aliases and physical indices are named.
    keys: the names of the read side's Redis keys, channel-layer group and holds index.
    notices: the notice stream's entries, written and read.
    freshness: the progress record, written and read.
    visibility: which posts are public, as a predicate and as a query.
"""
