"""The HTTP API of the write side: thin DRF views, one per operation, over `services/`."""
