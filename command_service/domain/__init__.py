"""The write model's rules in plain Python: aggregates, their invariants and transitions. Never imports Django."""
