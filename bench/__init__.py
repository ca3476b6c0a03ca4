"""Benchmarks: scripts that print numbers. Run them with `make bench-<name>`; see each module's docstring."""
