"""`python -m command_service outbox_relay`: run the outbox relay until SIGTERM or Ctrl-C."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from kafka.errors import KafkaError

from command_service.bootstrap import bootstrap
from command_service.relay.key_ticks import KeyTicks
from command_service.relay.publisher import KafkaPublisher
from command_service.relay.relay import OutboxRelay, RelaySettings
from command_service.relay.wake_up import wake_up_for
from events.topics import ensure_topics
from runtime.heartbeats import Heartbeat
from runtime.redis_clients import redis_client
from runtime.settings import kafka_bootstrap_servers
from runtime.shutdown import StopRequested


class Command(BaseCommand):
    help = "Publish the outbox to Kafka; several relays may run side by side."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit (for scripts and tests)")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between polls when idle")
        parser.add_argument("--owner", default=f"{socket.gethostname()}:{os.getpid()}", help="this relay's name")

    def handle(self, *args: Any, **options: Any) -> None:
        servers = kafka_bootstrap_servers()
        publisher = KafkaPublisher(servers)
        relay = OutboxRelay(
            publisher,
            options["owner"],
            wake_up_for(connection),
            RelaySettings(
                batch_size=options["batch_size"],
                poll_interval=options["poll_interval"],
                retention=timedelta(seconds=settings.OUTBOX_RETENTION_SECONDS),
            ),
            Heartbeat(redis_client(socket_timeout=2), f"relay {options['owner']}"),
            also_prune=[bootstrap().idempotency.prune],  # expired Idempotency-Key records, on the same schedule
            key_ticks=KeyTicks(publisher),
        )
        self._ensure_topics(servers)
        if options["once"]:
            pending, sent = relay.run_once()
            relay.publisher.close()
            relay.leases.release_all()
            self.stdout.write(f"published {sent} of {pending} pending events")
            return
        stop = StopRequested()
        self.stdout.write(f"outbox relay {options['owner']} publishing to {servers}")
        relay.run(lambda: bool(stop))

    def _ensure_topics(self, servers: str) -> None:
        try:
            ensure_topics(servers, timeout=10)
        except KafkaError as exc:  # Kafka down at start: the relay waits for it in its loop anyway
            self.stderr.write(f"could not check the topics yet ({exc}); continuing")
