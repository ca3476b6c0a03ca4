"""The command service's settings for the schemathesis run (tests/e2e/test_openapi_contracts.py): the real ones, with
passwords hashed fast, as in the API tests (the real hasher costs ~0.7 s a hash, and the run registers and signs in
hundreds of times)."""

from command_service.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
