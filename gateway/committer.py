"""The committer: validate, group-commit to the buffer, and only then acknowledge.

Intakes (MQTT, serial) put `Inbound` messages on one queue. The committer thread takes
what queued within a short window, validates each message (protocol.v1), commits the
group in one transaction and then calls each message's source to acknowledge it. A
crash before the commit leaves messages unacknowledged, so their sender delivers
them again; the buffer's (bin_id, seq) key makes that harmless.
"""

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from gateway.buffer import Accepted, Buffer, Event, Rejected
from gateway.config import GatewayConfig
from gateway.errors import BufferUnavailable
from gateway.stats import Counters
from protocol import binary, status, topics, v1
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)

# A commit that failed (disk full, I/O error) is retried after this pause; meanwhile
# nothing is acknowledged and the senders keep the messages.
COMMIT_RETRY_S = 1.0
# How often the committer counts the buffer to enforce max_buffer_rows.
DEPTH_CHECK_S = 1.0


class Source(Protocol):
    """Where a message came from, and how to tell it the message is safe."""

    def ack(self, token: object, result: "Accepted | Event | Rejected") -> bool:
        """Acknowledge one committed message (token is what the intake attached).

        Return whether an acknowledgement was sent.
        """


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message waiting for its commit."""

    topic: str
    payload: bytes
    source: Source
    token: object


SERIAL_PREFIX = "serial:"


def check_message(topic: str, payload: bytes, now_ms: int) -> Accepted | Event | Rejected:
    """Validate a message that carries at most one item (JSON reading, status, serial frame)."""
    results = check_items(topic, payload, now_ms)
    return results[0]


def check_items(topic: str, payload: bytes, now_ms: int) -> list[Accepted | Event | Rejected]:
    """Validate one message: readings or a status event to buffer, or why to dead-letter it.

    A binary telemetry message (protocol.binary) carries several readings; it is taken
    or rejected whole.

    `topic` is an MQTT topic (`bins/{id}/telemetry`, whose bin id the payload must
    match, or `bins/{id}/status`), or `serial:<port>` for a wired bin (the port names
    no bin).
    """
    try:
        if topic.startswith(SERIAL_PREFIX):
            bin_id = None
        else:
            bin_id = topics.bin_of(topic)
            if topics.kind_of(topic) == "status":
                e = status.decode(bin_id, payload, now_ms)
                return [e]
            if binary.is_binary(payload):
                return [Accepted(r.bin_id, r.seq, r.ts_ms,
                                 json.dumps(r.to_wire(), separators=(",", ":")))
                        for r in binary.decode(payload, bin_id, now_ms)]
        r = v1.decode(payload, bin_id, now_ms)
    except ProtocolError as e:
        return [Rejected(topic, payload, e.field, str(e))]
    # The payload passed validation as a whole, so it is forwarded as received: valid
    # JSON, no NaN, at most v1.MAX_BYTES, and cloud_ingest checks it again.
    return [Accepted(r.bin_id, r.seq, r.ts_ms, payload.decode())]


class Committer:
    """Owns the commit thread and the queue every intake feeds."""

    def __init__(self, cfg: GatewayConfig, counters: Counters,
                 wake_forwarder: threading.Event) -> None:
        """Prepare; nothing runs before start()."""
        self._cfg = cfg
        self._counters = counters
        self._wake_forwarder = wake_forwarder
        self._queue: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._depth = 0
        self._depth_checked = 0.0
        self._thread = threading.Thread(target=self._run, name="gw-commit", daemon=True)

    def submit(self, message: Inbound) -> None:
        """Queue a message for the next group commit (any thread)."""
        self._queue.put(message)

    def start(self) -> None:
        """Start committing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current group; queued messages stay unacknowledged."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _check(self, m: Inbound, now_ms: int) -> list[Accepted | Event | Rejected]:
        results = check_items(m.topic, m.payload, now_ms)
        first = results[0]
        if isinstance(first, Rejected):
            self._counters.add(f"rejected.{first.field}")
            log.warning("rejected message on %s: %s", m.topic, first.reason)
        return results

    def _take_group(self) -> list[Inbound]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        group = [first]
        deadline = time.monotonic() + self._cfg.commit_window_ms / 1000
        while len(group) < self._cfg.commit_max:
            remaining = deadline - time.monotonic()
            try:
                group.append(self._queue.get(timeout=remaining) if remaining > 0
                             else self._queue.get_nowait())
            except queue.Empty:
                break
        return group

    def _run(self) -> None:
        buffer = Buffer(self._cfg.buffer_path)
        try:
            while not self._stop.is_set():
                group = self._take_group()
                if group:
                    self._commit_and_ack(buffer, group)
        finally:
            buffer.close()

    def _buffer_full(self, buffer: Buffer) -> bool:
        now = time.monotonic()
        if now - self._depth_checked >= DEPTH_CHECK_S or self._depth >= self._cfg.max_buffer_rows:
            self._depth = buffer.depth()
            self._depth_checked = now
            if self._depth >= self._cfg.max_buffer_rows:
                log.error("buffer holds %d readings (max_buffer_rows %d): not acknowledging "
                          "until cloud_ingest takes some", self._depth, self._cfg.max_buffer_rows)
                return True
        return False

    def _commit_and_ack(self, buffer: Buffer, group: list[Inbound]) -> None:
        now_ms = int(time.time() * 1000)
        self._counters.add("received", len(group))
        checked = [self._check(m, now_ms) for m in group]
        items = [item for results in checked for item in results]
        while True:
            if self._buffer_full(buffer):
                # Backpressure: acknowledge nothing; the broker keeps the messages and
                # stops sending once our in-flight window is full.
                self._counters.add("backpressure_waits")
                if self._stop.wait(COMMIT_RETRY_S):
                    return
                continue
            try:
                stored, duplicates, dead = buffer.commit(items)
                break
            except BufferUnavailable as e:
                # Say why, acknowledge nothing, retry: the senders hold the messages.
                self._counters.add("commit_failures")
                log.error("%s; not acknowledging %d messages", e, len(group))
                if self._stop.wait(COMMIT_RETRY_S):
                    return
        self._depth += stored
        self._counters.add("committed", stored)
        self._counters.add("duplicates", duplicates)
        self._counters.add("dead_lettered", dead)
        self._wake_forwarder.set()
        acked = 0
        for m, results in zip(group, checked, strict=True):
            acked += m.source.ack(m.token, results[0])
        self._counters.add("acknowledged", acked)
