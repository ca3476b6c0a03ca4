"""`python -m projector COMMAND`: run the projector, inspect and replay dead letters, show status, verify.

Commands:
    run                         consume and project until SIGTERM / Ctrl-C (several processes share partitions)
    status                      consumer lag per partition, freshness, holds and dead letters
    verify [--limit N]          compare every read-model document with the command database; list missing, extra
                                and stale ones (at most N per read model and kind, default 20); exit 1 on any
    dead-letters list           every dead letter: offset, origin, kind, reason
    dead-letters show OFFSET    one dead letter in full
    dead-letters replay         apply the dead letters not yet replayed, in order; stops at the first that fails
    dead-letters skip           count the next unreplayed dead letter as handled without applying it
    rebuild [--no-swap]         build fresh read models from the topics, verify, swap the aliases (zero downtime)
    indices list                every read-model index, its size, and which are live
    indices use INDEX ...       point the aliases at these indices (a rollback after a rebuild)
    indices delete INDEX ...    delete old indices (never a live one)
"""

from __future__ import annotations

import sys

from projector.operations.cli import main

sys.exit(main(sys.argv[1:], __doc__ or ""))
