"""`python -m query_service.serve ARGS`: uvicorn's own command line, with `--workers N` connections on TCP_NODELAY.

uvicorn binds the listener of its multi-process supervisor with `proto` 0; accepted sockets inherit it, and asyncio
sets TCP_NODELAY only on sockets that say IPPROTO_TCP. So with `--workers 2` Nagle's algorithm stays on, and every
keep-alive request after a connection's first waits ~40 ms for the client's delayed ACK (uvicorn issue #3149, open
for 0.54). One worker is not affected. This wraps the bound listener with IPPROTO_TCP before it is handed to the
workers, and changes nothing else. `make run`, compose.yaml and the benchmarks serve the query service through it.
"""

from __future__ import annotations

import socket
import sys

import uvicorn.config
from uvicorn.main import main

_bind_socket = uvicorn.config.Config.bind_socket


def bind_socket(config: uvicorn.config.Config) -> socket.socket:
    """uvicorn's listener, re-wrapped as IPPROTO_TCP when it is a TCP socket that does not say so."""
    sock = _bind_socket(config)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


if __name__ == "__main__":
    uvicorn.config.Config.bind_socket = bind_socket
    sys.exit(main())
