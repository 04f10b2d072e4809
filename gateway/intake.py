"""MQTT intake: paho-mqtt with a persistent session and manual acknowledgement.

paho runs its network loop in its own thread; `on_message` only hands the message
to the committer (gateway.committer), which sends the PUBACK through `ack()` once
the message is committed. A PUBACK goes only on the connection that delivered the
message: after a reconnect the broker redelivers it anyway, and the redelivery is
acknowledged instead.
"""

import logging
import threading
from typing import cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from gateway.buffer import Accepted, Event, Rejected
from gateway.committer import Committer, Inbound
from gateway.config import GatewayConfig
from protocol import topics

log = logging.getLogger(__name__)

# Seconds between reconnect attempts to the broker (paho doubles up to the max).
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 10
# Keepalive: the broker drops us (and we notice a dead broker) after 1.5 x this.
KEEPALIVE_S = 30
# MQTT 5 Receive Maximum: as many unacknowledged messages as a few group commits take.
RECEIVE_MAXIMUM = 1000


class MqttIntake:
    """Owns the paho client; acknowledges what the committer has made durable."""

    def __init__(self, cfg: GatewayConfig, committer: Committer) -> None:
        """Prepare the client; nothing connects before start()."""
        self._cfg = cfg
        self._committer = committer
        self._stopping = threading.Event()
        # Bumped on every (re)connect; a token is (generation, mid, qos).
        self._generation = 0
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
        # A bug in a callback must not kill the network loop (as Home Assistant does).
        self._client.suppress_exceptions = True
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    def start(self) -> None:
        """Connect in the background, with retries."""
        host, port = self._cfg.mqtt_address()
        if self._connect_properties is not None:
            self._client.connect_async(host, port, keepalive=KEEPALIVE_S, clean_start=False,
                                       properties=self._connect_properties)
        else:
            self._client.connect_async(host, port, keepalive=KEEPALIVE_S)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect; unacknowledged messages stay with the broker."""
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, token: object, result: Accepted | Event | Rejected) -> bool:
        """Send the PUBACK for a committed message, if its connection is still the current one."""
        generation, mid, qos = cast(tuple[int, int, int], token)
        if generation != self._generation:
            return False
        self._client.ack(mid, qos)
        return True

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason: ReasonCode, properties: object) -> None:
        if reason.is_failure:
            log.warning("broker refused connection: %s", reason)
            return
        self._generation += 1
        # Status is never shared: retained messages do not go to shared subscriptions
        # (MQTT 5, 4.8.2), and every gateway may pass the same status on harmlessly.
        client.subscribe([(self._cfg.subscription(), 1), (topics.STATUS_SUBSCRIPTION, 1)])
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
        if not self._stopping.is_set():
            log.warning("broker connection lost: %s; reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._committer.submit(Inbound(msg.topic, bytes(msg.payload), self,
                                       (self._generation, msg.mid, msg.qos)))
