"""Benchmarks: scripts that print numbers. Run one with `make bench-<name>` (see each module's docstring), all of them
with `make bench` (`python -m bench`: one report, docs/benchmarks.md); `bench.stats` holds their one percentile."""
