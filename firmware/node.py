"""The wake cycle: sample, queue in flash, and on a sending wake publish the queue in order.

    node = Node(cfg, net, "/data", hw, clock)
    node.wake()          # then deep sleep until the next interval

A reading goes into the flash queue before any radio attempt. The reporting policy
(firmware/core/policy.py) says whether this wake sends and how long to sleep. On a
sending wake the queue is published oldest first as binary messages of up to
max_per_message readings, QoS 1; each message leaves the queue only after its PUBACK.
Any failure (no broker, no PUBACK in time) ends the attempt, keeps what is left for the
next wake, and returns, so the node goes back to sleep instead of staying awake.

With a RemoteConfig, a sending wake also subscribes to the retained
`bins/{id}/config`; a new config is checked, saved and put in force for the next
sample, and the outcome goes out retained on `bins/{id}/status`
(firmware/core/remote.py). A config change therefore reaches a bin at its next radio
wake: at the latest after heartbeat_s. The same retained status carries the number of
readings the flash queue had to drop (`"dropped"`), sent on the first sending wake that
gets through after a drop.

`hw.read_samples()` returns (distances_mm, counts, battery_mv, temp_dc): lists of
samples for the first two (firmware/core/sampling.py makes one reading of them);
`clock()` returns (ts_ms, synced). Both are supplied by main.py on the device and by
hardware/sim.py in tests. If hw has `switch_flags()`, its lid-open and tilted flags
(firmware/core/reading.py) are added to the reading.
"""

from firmware.core import binary, reading
from firmware.core.fqueue import FlashQueue
from firmware.core.policy import Policy, PolicyConfig
from firmware.core.remote import RemoteConfig, status_message
from firmware.core.sampling import History, emptied, make_sampled_reading
from firmware.core.seq import SeqCounter

# MicroPython has no typing module; type checkers take any TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from firmware.net.mqtt import MQTTClient


class NetConfig:
    """Where and how often to send."""

    def __init__(self, host: str, port: int = 1883, max_per_message: int = 20,
                 timeout_s: float = 5.0, queue_bytes: int = 65536) -> None:
        if not 1 <= max_per_message <= 20:
            raise ValueError("max_per_message: must be 1..20")
        self.host = host
        self.port = port
        self.max_per_message = max_per_message
        self.timeout_s = timeout_s
        self.queue_bytes = queue_bytes


class Node:
    """One bin controller's life between deep sleeps."""

    def __init__(self, cfg: reading.BinConfig, net: NetConfig, data_dir: str, hw: object,
                 clock: object, policy: PolicyConfig | None = None,
                 remote: RemoteConfig | None = None) -> None:
        self.cfg = cfg
        self.net = net
        self.hw = hw
        self.clock = clock
        self.seqs = SeqCounter(data_dir + "/seq")
        self.queue = FlashQueue(data_dir + "/queue", net.queue_bytes)
        # RTC memory on the device: survives deep sleep, not power loss.
        self.remote = remote
        if policy is None:
            policy = remote.policy() if remote is not None else PolicyConfig()
        self.policy = Policy(policy)
        self.wakes = 0
        self.last = None  # type: reading.Reading | None
        self.last_reason = ""
        self.history = History()
        self.sent = 0
        self.failed_sends = 0
        self.config_refused = False  # the broker refused the config subscription
        self.samples = remote.samples() if remote is not None else 5
        # Life-cycle hooks (firmware/app.py): bring the radio up (False: no network, keep
        # the queue), take it down again, and feed the watchdog between messages.
        self.net_up = None  # type: object
        self.net_down = None  # type: object
        self.feed = None  # type: object
        # Keep a new tare after an emptying (firmware/core/zeroing.py); without it the
        # scale is never re-zeroed.
        self.save_tare = None  # type: object
        self._topic = "bins/" + cfg.bin_id + "/telemetry"
        self._status_topic = "bins/" + cfg.bin_id + "/status"
        self._config_topic = "bins/" + cfg.bin_id + "/config"

    def sample(self) -> reading.Reading:
        """Take one reading and put it in the flash queue."""
        distances, counts, battery_mv, temp_dc = self.hw.read_samples(self.samples)  # type: ignore[attr-defined]
        ts_ms, synced = self.clock()  # type: ignore[operator]
        prev_fill = self.history.prev_fill
        r = make_sampled_reading(self.cfg, self.seqs.next(), ts_ms, synced, distances, counts,
                                 battery_mv, temp_dc, self.history)
        if hasattr(self.hw, "switch_flags"):
            r.flags |= self.hw.switch_flags()
        tare = None
        if self.save_tare is not None and emptied(prev_fill, r):
            # Imported only on an emptying: the one time the scale may re-zero.
            from firmware.core.zeroing import rezero

            tare = rezero(self.cfg, counts, r)
        record = bytearray(binary.SIZE)
        binary.encode_one(r, record, 0)
        self.queue.append(bytes(record))
        if tare is not None:
            self.save_tare(tare)  # type: ignore[operator]
        return r

    def send(self) -> bool:
        """Publish the whole queue in order; True if it is empty afterwards."""
        if not len(self.queue):
            return True
        if self.net_up is not None and not self.net_up():  # type: ignore[operator]
            self.failed_sends += 1
            return False
        try:
            return self._publish_queue()
        finally:
            if self.net_down is not None:
                self.net_down()  # type: ignore[operator]

    def _publish_queue(self) -> bool:
        # Imported on sending wakes only: most wakes sample and sleep, and heap is scarce.
        from firmware.net.mqtt import MQTTClient, MQTTError, MQTTRefused

        client = MQTTClient(self.cfg.bin_id, self.net.host, self.net.port,
                            timeout_s=self.net.timeout_s)
        try:
            client.connect(will=(self._status_topic, b"offline"))
            if self.remote is not None:
                try:
                    client.subscribe(self._config_topic)
                except MQTTRefused:
                    self.config_refused = True  # the broker's ACL: send readings anyway
            while len(self.queue):
                records = self.queue.peek(self.net.max_per_message)
                client.publish(self._topic, bytes([binary.MARKER]) + b"".join(records))
                self.queue.pop(len(records))
                self.sent += len(records)
                if self.feed is not None:
                    self.feed()  # type: ignore[operator]
            status_due = self._take_config(client)
            queue = self.queue
            if status_due or queue.dropped != queue.reported:
                remote = self.remote
                version, error = (0, None) if remote is None else (remote.version, remote.error)
                client.publish(self._status_topic, status_message(version, error,
                                                                  queue.dropped), retain=True)
                queue.mark_reported()
            client.disconnect()
            return True
        except (MQTTError, OSError):
            self.failed_sends += 1
            client.close()
            return False

    def _take_config(self, client: "MQTTClient") -> bool:
        """Apply a retained config that came in; True if its outcome is to be reported."""
        remote = self.remote
        due = False
        if remote is None:
            return due
        for topic, payload in client.inbox:
            if topic != self._config_topic or not payload:
                continue
            applied, status = remote.offer(payload)
            if applied:
                self.policy.cfg = remote.policy()
            due = due or status is not None
        client.inbox = []
        return due

    def wake(self, lid: bool = False) -> bool:
        """One wake: sample, and send if the policy says so. True if the queue is empty.

        A failed send leaves the policy wanting to send, so the next wake tries again.
        """
        self.wakes += 1
        r = self.sample()
        self.last = r
        send, self.last_reason = self.policy.on_reading(r, lid)
        if send and self.send():
            self.policy.sent(r)
            return True
        return not len(self.queue)

    def sleep_s(self) -> int:
        """Seconds until the next sample (deep sleep on the device)."""
        return self.policy.next_interval_s()
