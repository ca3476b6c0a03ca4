"""Use cases of the write side in plain Python: one function per command, over the UnitOfWork they declare.

Never imports Django: `command_service.apps` implements the protocols in `unit_of_work`, and the unit tests
run every service against the in-memory fakes of `tests/unit/command_service/fakes.py`.
"""
