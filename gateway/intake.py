"""MQTT intake: receive, validate, group-commit to the buffer, and only then acknowledge.

paho-mqtt runs its network loop in its own thread; `on_message` only queues the
message. The committer thread takes what has queued within a short window,
validates each message (protocol.v1), commits the group in one transaction and
then sends the PUBACKs (paho's manual acknowledgement). A crash before the
commit leaves the messages unacknowledged in the broker's persistent session,
which delivers them again.
"""

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from gateway.buffer import Accepted, Buffer, Rejected
from gateway.config import GatewayConfig
from gateway.errors import BufferUnavailable
from gateway.stats import Counters
from protocol import topics, v1
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)

# Seconds between reconnect attempts to the broker (paho doubles up to the max).
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 10
# Keepalive: the broker drops us (and we notice a dead broker) after 1.5 x this.
KEEPALIVE_S = 30
# A commit that failed (disk full, I/O error) is retried after this pause; meanwhile
# nothing is acknowledged and the broker keeps the messages.
COMMIT_RETRY_S = 1.0
# MQTT 5 Receive Maximum: as many unacknowledged messages as a few group commits take.
RECEIVE_MAXIMUM = 1000
# How often the committer counts the buffer to enforce max_buffer_rows.
DEPTH_CHECK_S = 1.0


@dataclass(frozen=True, slots=True)
class _Inbound:
    mid: int
    qos: int
    topic: str
    payload: bytes
    generation: int


def check_message(topic: str, payload: bytes, now_ms: int) -> Accepted | Rejected:
    """Validate one telemetry message: a reading to buffer, or a reason to dead-letter it."""
    try:
        bin_id = topics.bin_of(topic)
        r = v1.decode(payload, bin_id, now_ms)
    except ProtocolError as e:
        return Rejected(topic, payload, e.field, str(e))
    body = json.dumps(r.to_wire(), separators=(",", ":"))
    return Accepted(r.bin_id, r.seq, r.ts_ms, body)


class MqttIntake:
    """Owns the paho client and the committer thread."""

    def __init__(self, cfg: GatewayConfig, counters: Counters, wake_forwarder: threading.Event):
        """Prepare the client; nothing connects before start()."""
        self._cfg = cfg
        self._counters = counters
        self._wake_forwarder = wake_forwarder
        self._queue: queue.Queue[_Inbound] = queue.Queue()
        self._stop = threading.Event()
        # Bumped on every (re)connect: a PUBACK is only sent on the connection that
        # delivered the message; after a reconnect the broker redelivers it anyway.
        self._generation = 0
        self._depth = 0
        self._depth_checked = 0.0
        self.connected = threading.Event()
        # Set once the broker granted the subscription: from then on the persistent
        # session queues every reading for us, even while we are away.
        self.subscribed = threading.Event()
        v5 = cfg.mqtt_protocol == "5"
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"binfleet-gateway-{cfg.gateway_id}",
            # MQTT 5 sets clean start and session expiry on CONNECT instead.
            clean_session=None if v5 else False,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        )
        self._connect_properties: Properties | None = None
        if v5:
            self._connect_properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            self._connect_properties.SessionExpiryInterval = cfg.session_expiry_s
            # Unacknowledged messages the broker may have in flight to us at once.
            self._connect_properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.manual_ack_set(True)
        self._client.suppress_exceptions = True
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._committer = threading.Thread(target=self._run_committer, name="gw-commit",
                                           daemon=True)

    def start(self) -> None:
        """Connect (in the background, with retries) and start committing."""
        host, port = self._cfg.mqtt_address()
        self._committer.start()
        if self._connect_properties is not None:
            self._client.connect_async(host, port, keepalive=KEEPALIVE_S, clean_start=False,
                                       properties=self._connect_properties)
        else:
            self._client.connect_async(host, port, keepalive=KEEPALIVE_S)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop; unacknowledged messages stay with the broker."""
        self._stop.set()
        self._client.disconnect()
        self._client.loop_stop()
        self._committer.join(timeout=10)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason: ReasonCode, properties: object) -> None:
        if reason.is_failure:
            log.warning("broker refused connection: %s", reason)
            return
        self._generation += 1
        client.subscribe(self._cfg.subscription(), qos=1)
        self.connected.set()
        log.info("connected to broker (session present: %s)", flags.session_present)

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reasons: list[ReasonCode], properties: object) -> None:
        if any(r.is_failure for r in reasons):
            log.error("broker refused subscription to %s: %s", self._cfg.subscription(),
                      reasons)
            return
        self.subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason: ReasonCode, properties: object) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("broker connection lost: %s; reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._counters.add("received")
        self._queue.put(_Inbound(msg.mid, msg.qos, msg.topic, bytes(msg.payload), self._generation))

    def _check(self, m: _Inbound, now_ms: int) -> Accepted | Rejected:
        result = check_message(m.topic, m.payload, now_ms)
        if isinstance(result, Rejected):
            self._counters.add(f"rejected.{result.field}")
            log.warning("rejected message on %s: %s", m.topic, result.reason)
        return result

    def _take_group(self) -> list[_Inbound]:
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

    def _run_committer(self) -> None:
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

    def _commit_and_ack(self, buffer: Buffer, group: list[_Inbound]) -> None:
        now_ms = int(time.time() * 1000)
        checked = [self._check(m, now_ms) for m in group]
        while True:
            if self._buffer_full(buffer):
                # Backpressure: acknowledge nothing; the broker keeps the messages and
                # stops sending once our in-flight window is full.
                self._counters.add("backpressure_waits")
                if self._stop.wait(COMMIT_RETRY_S):
                    return
                continue
            try:
                stored, duplicates, dead = buffer.commit(checked)
                break
            except BufferUnavailable as e:
                # Say why, acknowledge nothing, retry: the broker holds the messages.
                self._counters.add("commit_failures")
                log.error("%s; not acknowledging %d messages", e, len(group))
                if self._stop.wait(COMMIT_RETRY_S):
                    return
        self._depth += stored
        self._counters.add("committed", stored)
        self._counters.add("duplicates", duplicates)
        self._counters.add("dead_lettered", dead)
        self._wake_forwarder.set()
        generation = self._generation
        acked = 0
        for m in group:
            if m.generation == generation:
                self._client.ack(m.mid, m.qos)
                acked += 1
        self._counters.add("acknowledged", acked)
