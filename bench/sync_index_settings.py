"""Settings of the command-write benchmark's server: the peer and commit-stamped routes of bench/sync_index.py."""

from bench.command_settings import *  # noqa: F403

ROOT_URLCONF = "bench.sync_index"
MIDDLEWARE = ["bench.sync_index.commit_stamp_middleware", *MIDDLEWARE]  # noqa: F405
