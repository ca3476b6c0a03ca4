"""The `/stream` WebSocket: one subscription per connection, event frames in stream order, resume, limits.

The connection joins the fan-out's group when it opens. `position` is the last stream entry it has accounted for
(sent, or filtered out): a live item at or before it is a duplicate (another fan-out replica) or was already sent
by a catch-up, and is dropped; a later one must name `position` as its `previous`, else the channel layer dropped
messages for this connection and it is closed with RESUME_REQUIRED rather than skip events silently (an
idle fan-out's heartbeat reveals lost messages at the end of a burst). So is a connection whose client does not
read a frame within STREAM_SEND_TIMEOUT_SECONDS: neither case grows memory. An item without a `previous` (notices
were lost before it) closes a live connection the same way; a catch-up that meets one sends `resync_required` and
goes on past it.

Per-client limits (`query_service.stream.limits`): a connection beyond STREAM_MAX_CONNECTIONS_PER_CLIENT open ones
of its client address is accepted and closed at once with TOO_MANY_CONNECTIONS (a close code needs an open
connection), before it joins the group. A subscribe frame beyond STREAM_MAX_SUBSCRIBES_PER_MINUTE of the connection
(counted in memory), or beyond STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE of its client address (all its connections
together, counted in Redis), closes the connection with TOO_MANY_SUBSCRIBES, the reason naming the limit. When Redis
cannot count, connections are let in (and the group join fails them anyway) and subscribe frames are held to the
per-connection limit only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from opensearchpy.exceptions import OpenSearchException
from redis import RedisError

from events.errors import UndecodableEvent, UnsupportedEvent
from events.stream import CloseCode, ErrorFrame, ResyncRequiredFrame, SubscribeFrame, event_frame_text, frame_from_json
from events.stream import frame_to_json as to_json
from query_service.adapters import opensearch, redis_client
from query_service.stream import limits, notices
from query_service.stream.positions import position_key
from query_service.stream.subscription import Subscription, SubscriptionRefused
from read_models.keys import channel_group

log = logging.getLogger(__name__)
FELL_BEHIND = "fell behind: reconnect and subscribe with resume_from = the last position you received"


class StreamConsumer(AsyncWebsocketConsumer):
    """One subscriber's connection."""

    subscription: Subscription | None = None
    position: str | None = None
    closing = False
    group: str | None = None
    address = "unknown"  # the client address its connections are counted under (limits.client_address)
    leased = False
    keeper: asyncio.Task[None] | None = None
    subscribes: limits.SubscribeRate | None = None  # this connection's own count (in memory)
    frames_counted = 0  # subscribe frames this connection put to its address's count (numbers its window members)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Run the connection; however it ends (even by a send to a client that is gone), leave the group, or the
        layer would keep queueing messages for a channel nobody reads."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._leave()
            await self._release()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Like Channels', without its per-message hop to a thread to close database connections: there is none."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        """Join the group first, so a later catch-up and the live messages overlap rather than leave a hole; a
        connection over its client's limit is closed at once."""
        self.subscribes = limits.SubscribeRate(settings.STREAM_MAX_SUBSCRIBES_PER_MINUTE)
        self.address = limits.client_address(self.scope)
        if not await self._acquire():
            await self.accept()
            limit = settings.STREAM_MAX_CONNECTIONS_PER_CLIENT
            await self._close(CloseCode.TOO_MANY_CONNECTIONS, f"at most {limit} open connections per client")
            return
        self.group = channel_group()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.keeper = asyncio.create_task(self._keep_alive())

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """Stop (leaving the group)."""
        raise StopConsumer

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """A client frame: a `subscribe`, or an error frame back."""
        if self.closing:
            return
        size = len(bytes_data) if text_data is None else len(text_data.encode())
        if size > settings.STREAM_MAX_FRAME_BYTES:
            await self._close(CloseCode.MESSAGE_TOO_BIG, f"frames are at most {settings.STREAM_MAX_FRAME_BYTES} bytes")
            return
        try:
            if text_data is None:
                raise UndecodableEvent("frames are JSON text, not binary")
            frame = frame_from_json(json.loads(text_data))
            if not isinstance(frame, SubscribeFrame):
                raise UndecodableEvent(f"clients send subscribe frames, not {frame.FRAME_TYPE}")
            refusal = await self._subscribe_refusal()
            if refusal is not None:
                await self._close(CloseCode.TOO_MANY_SUBSCRIBES, refusal)
                return
            subscription = Subscription.from_frame(frame, max_values=settings.STREAM_MAX_FILTER_VALUES)
        except (ValueError, RecursionError, UndecodableEvent, UnsupportedEvent, SubscriptionRefused) as error:
            message = str(error) if not isinstance(error, json.JSONDecodeError) else "frames are JSON objects"
            await self._send(json.dumps(to_json(ErrorFrame(message=message[:500]))))
            return
        await self._subscribe(subscription, frame.resume_from)

    async def stream_notices(self, message: dict[str, Any]) -> None:
        """Live items from the fan-out."""
        for item in message["items"]:
            if self.closing or self.subscription is None or self.position is None:
                return
            if position_key(item["position"]) <= position_key(self.position):
                continue
            if item["previous"] != self.position:
                log.info("stream subscriber %s missed messages after %s", self.channel_name, self.position)
                await self._close(CloseCode.RESUME_REQUIRED, FELL_BEHIND)
                return
            await self._deliver(item)

    async def stream_heartbeat(self, message: dict[str, Any]) -> None:
        """The fan-out is idle at `position`: a connection that has not got that far lost the last messages."""
        if self.closing or self.subscription is None or self.position is None:
            return
        if position_key(message["position"]) > position_key(self.position):
            log.info("stream subscriber %s missed messages up to %s", self.channel_name, message["position"])
            await self._close(CloseCode.RESUME_REQUIRED, FELL_BEHIND)

    async def _subscribe(self, subscription: Subscription, resume_from: str | None) -> None:
        self.subscription = subscription
        try:
            bounds = await asyncio.to_thread(notices.stream_bounds, redis_client())
            self.position = bounds.last
            if resume_from is None:
                return
            if not bounds.retains(resume_from):
                reason = f"position {resume_from} is no longer retained: reload over HTTP; live events follow"
                await self._send(json.dumps(to_json(ResyncRequiredFrame(reason=reason))))
                return
            await self._catch_up(resume_from)
        except (RedisError, OpenSearchException) as error:
            log.warning("stream catch-up failed: %s", error)
            await self._close(CloseCode.TRY_AGAIN_LATER, "the stream is unavailable: reconnect later with resume_from")

    async def _catch_up(self, position: str) -> None:
        """Send what the subscription missed after `position`, chunk by chunk, up to the stream's end."""
        self.position = position
        chunk = settings.STREAM_CATCH_UP_CHUNK
        while not self.closing:
            entries = await asyncio.to_thread(notices.entries_after, redis_client(), self.position, chunk)
            if entries:
                items = await asyncio.to_thread(notices.build_items, entries, self.position, opensearch())
                for item in items:
                    if item["previous"] is None:
                        reason = f"notices before position {item['position']} were lost: reload over HTTP"
                        await self._send(json.dumps(to_json(ResyncRequiredFrame(reason=reason))))
                    await self._deliver(item)
            if len(entries) < chunk:
                return

    async def _deliver(self, item: dict[str, Any]) -> None:
        self.position = item["position"]
        if "event" not in item or self.closing:
            return
        if self.subscription and self.subscription.matches(item["aggregate_type"], item["tags"], item["author_id"]):
            await self._send(event_frame_text(item["position"], item["event"], item["document"]))

    async def _send(self, text: str) -> None:
        try:
            await asyncio.wait_for(self.send(text_data=text), settings.STREAM_SEND_TIMEOUT_SECONDS)
        except TimeoutError:
            log.info("stream subscriber %s does not read: closing", self.channel_name)
            await self._close(CloseCode.RESUME_REQUIRED, FELL_BEHIND)

    async def _close(self, code: CloseCode, reason: str) -> None:
        """Close with `code`; a peer that reads nothing cannot even get the close frame: then just stop."""
        self.closing = True
        await self._leave()
        try:
            await asyncio.wait_for(self.close(code=int(code), reason=reason), settings.STREAM_CLOSE_GRACE_SECONDS)
        except TimeoutError:
            raise StopConsumer from None

    async def _subscribe_refusal(self) -> str | None:
        """Count one subscribe frame, on this connection and then for its client address; the close reason when it
        is over either limit (a frame refused by the connection's limit is not counted for the address), else None.
        When Redis cannot count, the connection's limit alone applies."""
        if self.subscribes is not None and not self.subscribes.allow():
            return f"at most {settings.STREAM_MAX_SUBSCRIBES_PER_MINUTE} subscribe frames a minute on one connection"
        address, limit = self.address, settings.STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE
        self.frames_counted += 1
        frame = f"{self.channel_name}:{self.frames_counted}"
        try:
            allowed = await asyncio.to_thread(limits.subscribe_allowed, redis_client(), address, frame, limit)
        except RedisError as error:
            log.warning("stream subscribes of %s counted per connection only: %s", address, error)
            return None
        if not allowed:
            log.info("stream client %s sent %d subscribe frames this minute: closing a connection", address, limit)
            return f"at most {limit} subscribe frames a minute from one client address"
        return None

    async def _acquire(self) -> bool:
        """Take this connection's lease among its client's; True when Redis cannot count."""
        address, limit = self.address, settings.STREAM_MAX_CONNECTIONS_PER_CLIENT
        try:
            lease = settings.STREAM_CONNECTION_LEASE_SECONDS
            self.leased = await asyncio.to_thread(
                limits.lease_acquire, redis_client(), address, self.channel_name, limit, lease
            )
        except RedisError as error:
            log.warning("stream connections of %s not counted: %s", address, error)
            return True
        if not self.leased:
            log.info("stream client %s holds %d connections: refusing one more", address, limit)
        return self.leased

    async def _keep_alive(self) -> None:
        """Every third of the lease: renew it, and join the group again, so neither the group's expiry (a day) nor
        Redis evicting it when full ends live delivery for good (messages missed meanwhile close with a 4008)."""
        address, lease = self.address, settings.STREAM_CONNECTION_LEASE_SECONDS
        while not self.closing:
            await asyncio.sleep(lease / 3)
            try:
                if self.leased:
                    await asyncio.to_thread(limits.lease_renew, redis_client(), address, self.channel_name, lease)
                if self.group is not None:
                    await self.channel_layer.group_add(self.group, self.channel_name)
            except (RedisError, OSError) as error:
                log.warning("stream connection of %s not kept alive in Redis: %s", address, error)

    async def _release(self) -> None:
        if self.leased:
            self.leased = False
            with contextlib.suppress(RedisError, OSError):
                await asyncio.to_thread(limits.lease_release, redis_client(), self.address, self.channel_name)

    async def _leave(self) -> None:
        if self.keeper is not None:  # first, so that it cannot join the group again behind the discard
            keeper, self.keeper = self.keeper, None
            keeper.cancel()
            await asyncio.wait({keeper})
        if self.group is not None:
            group, self.group = self.group, None
            with contextlib.suppress(RedisError, OSError):
                await self.channel_layer.group_discard(group, self.channel_name)
