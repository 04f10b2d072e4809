"""A subscriber that records what the firmware under test published."""

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from protocol import binary, v1


class Listener:
    """A persistent-session subscriber that records every telemetry message in order."""

    def __init__(self, port: int) -> None:
        self.messages: list[bytes] = []
        self.status: list[bytes] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id="fw-listener", clean_session=False)
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe(
            [("bins/+/telemetry", 1), ("bins/+/status", 1)])
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        (self.status if m.topic.endswith("/status") else self.messages).append(m.payload)

    def readings(self) -> list[v1.Reading]:
        """Every reading of bin-fw received, decoded, in arrival order."""
        now = int(time.time() * 1000) + 3_600_000
        return [r for m in self.messages for r in binary.decode(m, "bin-fw", now)]

    def seqs(self) -> list[int]:
        """Sequence numbers of every reading received, in arrival order."""
        return [r.seq for r in self.readings()]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
