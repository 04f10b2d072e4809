"""The wake cycle: sample, queue in flash, and on a sending wake publish the queue in order.

    node = Node(cfg, net, "/data", hw, clock)
    node.wake()          # then deep sleep until the next interval

A reading goes into the flash queue before any radio attempt. On a sending wake the
queue is published oldest first as binary messages of up to max_per_message readings,
QoS 1; each message leaves the queue only after its PUBACK. Any failure (no broker, no
PUBACK in time) ends the attempt, keeps what is left for the next wake, and returns, so
the node goes back to sleep instead of staying awake.

`hw.read()` returns (distance_mm, counts, battery_mv, temp_dc), each possibly None;
`clock()` returns (ts_ms, synced). Both are supplied by main.py on the device and by
hardware/sim.py in tests.
"""

from firmware.core import binary, reading
from firmware.core.fqueue import FlashQueue
from firmware.core.seq import SeqCounter
from firmware.net.mqtt import MQTTClient, MQTTError


class NetConfig:
    """Where and how often to send."""

    def __init__(self, host: str, port: int = 1883, send_every: int = 4,
                 max_per_message: int = 20, timeout_s: float = 5.0,
                 queue_bytes: int = 65536) -> None:
        if send_every < 1:
            raise ValueError("send_every: must be >= 1")
        if not 1 <= max_per_message <= 20:
            raise ValueError("max_per_message: must be 1..20")
        self.host = host
        self.port = port
        self.send_every = send_every
        self.max_per_message = max_per_message
        self.timeout_s = timeout_s
        self.queue_bytes = queue_bytes


class Node:
    """One bin controller's life between deep sleeps."""

    def __init__(self, cfg: reading.BinConfig, net: NetConfig, data_dir: str, hw: object,
                 clock: object) -> None:
        self.cfg = cfg
        self.net = net
        self.hw = hw
        self.clock = clock
        self.seqs = SeqCounter(data_dir + "/seq")
        self.queue = FlashQueue(data_dir + "/queue", net.queue_bytes)
        self.wakes = 0  # RTC memory on the device: survives deep sleep, not power loss
        self.sent = 0
        self.failed_sends = 0
        self._topic = "bins/" + cfg.bin_id + "/telemetry"

    def sample(self) -> None:
        """Take one reading and put it in the flash queue."""
        distance_mm, counts, battery_mv, temp_dc = self.hw.read()  # type: ignore[attr-defined]
        ts_ms, synced = self.clock()  # type: ignore[operator]
        r = reading.make_reading(self.cfg, self.seqs.next(), ts_ms, synced, distance_mm, counts,
                                 battery_mv, temp_dc)
        record = bytearray(binary.SIZE)
        binary.encode_one(r, record, 0)
        self.queue.append(bytes(record))

    def send(self) -> bool:
        """Publish the whole queue in order; True if it is empty afterwards."""
        if not len(self.queue):
            return True
        client = MQTTClient(self.cfg.bin_id, self.net.host, self.net.port,
                            timeout_s=self.net.timeout_s)
        try:
            client.connect(will=("bins/" + self.cfg.bin_id + "/status", b"offline"))
            while len(self.queue):
                records = self.queue.peek(self.net.max_per_message)
                client.publish(self._topic, bytes([binary.MARKER]) + b"".join(records))
                self.queue.pop(len(records))
                self.sent += len(records)
            client.disconnect()
            return True
        except (MQTTError, OSError):
            self.failed_sends += 1
            client.close()
            return False

    def wake(self) -> bool:
        """One wake: sample, and on every send_every-th wake send. True if nothing is left."""
        self.wakes += 1
        self.sample()
        if self.wakes % self.net.send_every == 0:
            return self.send()
        return False
