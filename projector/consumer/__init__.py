"""The live projection path: Kafka batches in, versioned OpenSearch writes out, then notices and progress.

`app.bootstrap()` is the one place the real adapters are wired (after `app.prepare()`: topics, live indices,
scripts, holds index); the loop reads a batch, the handlers turn each event into a plan (pure data), the writer
carries plans out with the installed scripts, failures are dead-lettered and their aggregates held, and the notices
publisher tells the live side what became searchable.
"""
