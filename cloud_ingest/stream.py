"""Live stream of state changes for the fill map: server-sent events.

FleetState calls publish() after each committed batch, from whatever thread ran it;
each connected client has a bounded queue on the event loop. A client too slow to
keep up (queue full) is disconnected rather than allowed to hold back ingestion; it
reconnects and reloads /api/v1/bins. Events:

    event: reading   data: {"bin_id", "ts_ms", "fill_pct", "weight_kg", "battery_mv",
                            "temp_c", "quality", "flags"}     (a bin's newest reading)
    event: status    data: {"bin_id", "status", "ts_ms", "config_version", "config_error",
                            "dropped"}

One process sees the batches it took: with several cloud_ingest processes behind a
load balancer, a client sees the changes of the process it is connected to.
"""

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

QUEUE_MAX = 1000
KEEPALIVE_S = 15.0


class Broadcaster:
    """Fan-out of change events to the connected clients."""

    def __init__(self) -> None:
        """No subscribers yet."""
        self._lock = threading.Lock()
        self._subs: dict[asyncio.Queue[dict[str, Any] | None], asyncio.AbstractEventLoop] = {}

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Queue events for every client (thread-safe, never blocks)."""
        with self._lock:
            subs = list(self._subs.items())
        for q, loop in subs:
            loop.call_soon_threadsafe(self._put, q, events)

    @staticmethod
    def _put(q: "asyncio.Queue[dict[str, Any] | None]", events: list[dict[str, Any]]) -> None:
        for e in events:
            if q.qsize() >= QUEUE_MAX - 1:
                q.put_nowait(None)  # too slow: tell the client's loop to end its stream
                return
            q.put_nowait(e)

    async def events(self) -> AsyncIterator[str]:
        """The text/event-stream body for one client."""
        q: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_MAX)
        with self._lock:
            self._subs[q] = asyncio.get_running_loop()
        try:
            yield ": connected\n\n"
            while True:
                try:
                    e = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if e is None:
                    return
                kind = e.pop("type")
                yield f"event: {kind}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n"
        finally:
            with self._lock:
                self._subs.pop(q, None)

    @property
    def clients(self) -> int:
        """How many clients are connected."""
        with self._lock:
            return len(self._subs)
