"""The write side: Django + DRF views over pure-Python services/ and domain/, with a transactional outbox.

Built under the command-service issue; see ../shared/DESIGN.md for its layout.
"""
