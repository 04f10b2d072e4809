"""The device's life cycle around one wake: boot guard, config, RTC memory, Wi-Fi, NTP.

main.py calls run() once per boot (every deep-sleep wake is a boot) and deep-sleeps
for the seconds it returns; the watchdog resets a wake that hangs. run() takes a
platform object, the ESP32 one (firmware/esp32.py) on the device and a simulated one
(hardware/sim_platform.py) in tests, with:

    feed()                        feed the watchdog
    now_ms()                      device time from the RTC, Unix ms
    rtc_read() / rtc_write(b)     RTC memory (survives deep sleep, not power loss)
    woke_by_lid()                 the lid switch (ext0) ended the sleep
    power_on()                    this boot is a power-up or reset, not a deep-sleep wake
    wifi_connect(ssid, password, timeout_ms, ip)   True once connected, within timeout_ms
    wifi_off()                    radio off (also after a failure)
    ntp_sync()                    set the RTC from NTP; True on success
    serve_provisioning(prov, ms)  answer the serial provisioning protocol for up to ms
    hw                            read_samples(n), as firmware/node.py expects

One wake: the boot guard counts the boot; in safe mode (repeated crashes) only the
provisioning window runs, then a long sleep. After a power-up or the reset button the
provisioning window opens too (`binfleet provision` within 20 s of a reset), then the
normal wake follows; a deep-sleep wake skips it. Otherwise the provisioned config
(/config.json, written by `binfleet provision`) and the remote config make a Node,
RTC memory restores its policy and sampler state, and node.wake() samples, queues and,
if the policy says so, brings Wi-Fi up (with a hard timeout), syncs the clock from
NTP when it never was or a day has passed, publishes the queue and takes Wi-Fi down.
A reading that saw the bin emptied may re-zero the scale (firmware/core/zeroing.py);
the new tare goes into /config.json.
A wake that found no network makes the next sending wakes skip the radio, 1, 3, 7,
then 15 of them (a fire report never skips), so a dead access point costs one
timeout per few hours instead of one per wake. Readings wait in the flash queue.
"""

import json
import os

from firmware.core import reading, rtcstate
from firmware.core.bootguard import BootGuard
from firmware.core.compat import const
from firmware.core.flashfile import read_text, write_atomic
from firmware.core.remote import RemoteConfig
from firmware.node import NetConfig, Node

SAFE_SLEEP_S = const(6 * 3600)
UNPROVISIONED_SLEEP_S = const(3600)
_PROVISION_WINDOW_MS = const(20_000)
_NTP_EVERY_MS = const(24 * 3600 * 1000)
_WIFI_TIMEOUT_MS = const(8000)
_MAX_SKIP = const(15)
CRASH_SLEEP_S = const(60)
REQUIRED = ("bin_id", "wifi_ssid", "broker_host", "depth_mm", "tare_counts", "cal_counts",
            "cal_grams")


def load_config(path: str) -> dict[str, object] | None:
    """The provisioned config, or None if missing, unreadable or incomplete."""
    text = read_text(path)
    if text is None:
        return None
    try:
        config = json.loads(text)
    except ValueError:
        return None
    if not isinstance(config, dict):
        return None
    for key in REQUIRED:
        if key not in config:
            return None
    return config


def bin_config(c: dict[str, object], fw: str) -> reading.BinConfig:
    """The bin's geometry and calibration from the provisioned config."""
    return reading.BinConfig(
        c["bin_id"], c["depth_mm"], c.get("offset_mm", 0), c.get("dead_zone_mm", 250),  # type: ignore[arg-type]
        c["tare_counts"], c["cal_counts"], c["cal_grams"], fw,  # type: ignore[arg-type]
        c.get("bottom_mm", 0), c.get("top_mm", 0))  # type: ignore[arg-type]


class App:
    """One boot of the device."""

    def __init__(self, platform: object, root: str = "", fw: str = "0.1.0") -> None:
        self.p = platform
        self.root = root
        self.fw = fw
        self.node = None  # type: Node | None
        self.life = rtcstate.LifeState()
        self.config = None  # type: dict[str, object] | None
        self.safe_mode = False
        self.attempted = False  # this wake tried Wi-Fi

    def _provisioning(self) -> None:
        # Imported here: most wakes never open the window, and heap is scarce.
        from firmware.provision import Provisioner

        prov = Provisioner(self.root + "/config.json", self.p.hw.read_counts)  # type: ignore[attr-defined]
        self.p.serve_provisioning(prov, _PROVISION_WINDOW_MS)  # type: ignore[attr-defined]

    def run(self) -> int:
        """One wake; return the seconds to deep-sleep."""
        p = self.p
        p.feed()  # type: ignore[attr-defined]
        try:
            os.mkdir(self.root + "/data")
        except OSError:
            pass  # already there
        guard = BootGuard(self.root + "/data/boots")
        if guard.safe_mode:
            # Crashed max_bad times in a row: no sensors, no radio. Offer the serial
            # port for a fix, then try the normal cycle again after a long sleep.
            self.safe_mode = True
            self._provisioning()
            guard.clear()
            return SAFE_SLEEP_S
        if p.power_on():  # type: ignore[attr-defined]
            self._provisioning()
        config = load_config(self.root + "/config.json")
        if config is None:
            if not p.power_on():  # type: ignore[attr-defined]
                self._provisioning()
            guard.good()
            return UNPROVISIONED_SLEEP_S
        self.config = config
        remote = RemoteConfig(self.root + "/data/remote.json")
        life = self.life
        net = NetConfig(str(config["broker_host"]), int(config.get("broker_port", 1883)))  # type: ignore[call-overload]
        node = Node(bin_config(config, self.fw), net, self.root + "/data", p.hw,  # type: ignore[attr-defined]
                    lambda: (p.now_ms(), life.synced), remote=remote)  # type: ignore[attr-defined]
        self.node = node
        if rtcstate.load(p.rtc_read(), node.policy, node.history, life):  # type: ignore[attr-defined]
            node.seqs.resume(life.seq_next, life.seq_leased_to)
        node.feed = p.feed  # type: ignore[attr-defined]
        node.save_tare = self._save_tare
        node.net_up = self._net_up
        node.net_down = p.wifi_off  # type: ignore[attr-defined]
        node.wake(p.woke_by_lid())  # type: ignore[attr-defined]
        if self.attempted:
            if len(node.queue):  # no Wi-Fi, or no broker: back off
                life.radio_failures += 1
                life.radio_skip = min(2 ** life.radio_failures - 1, _MAX_SKIP)
            else:
                life.radio_failures = 0
        life.wakes += 1
        life.seq_next = node.seqs.peek()
        life.seq_leased_to = node.seqs.leased_to
        p.rtc_write(rtcstate.dump(node.policy, node.history, life))  # type: ignore[attr-defined]
        guard.good()
        return node.sleep_s()

    def _save_tare(self, tare: int) -> None:
        """The scale re-zeroed after an emptying: the new tare goes into /config.json."""
        config = self.config
        if config is not None:
            config["tare_counts"] = tare
            write_atomic(self.root + "/config.json", json.dumps(config))

    def _net_up(self) -> bool:
        """Wi-Fi for this wake, unless backing off; NTP when due."""
        p, life, node, config = self.p, self.life, self.node, self.config
        if node is None or config is None:
            return False
        if life.radio_skip > 0 and node.last_reason != "fire":
            life.radio_skip -= 1
            return False
        life.radio_skip = 0
        self.attempted = True
        p.feed()  # type: ignore[attr-defined]
        if not p.wifi_connect(config["wifi_ssid"], config.get("wifi_pass", ""),  # type: ignore[attr-defined]
                              int(config.get("wifi_timeout_ms", _WIFI_TIMEOUT_MS)),  # type: ignore[call-overload]
                              config.get("ip")):
            p.wifi_off()  # type: ignore[attr-defined]
            return False
        p.feed()  # type: ignore[attr-defined]
        if (not life.synced or p.now_ms() - life.ntp_ms >= _NTP_EVERY_MS) and p.ntp_sync():  # type: ignore[attr-defined]
            life.synced = True
            life.ntp_ms = p.now_ms()  # type: ignore[attr-defined]
        return True


def main(platform: object, root: str = "", fw: str = "0.1.0") -> int:
    """One boot as main.py runs it: a wake that raises sleeps briefly and counts as a
    crash (the boot guard never heard good()); return the seconds to deep-sleep."""
    try:
        return App(platform, root, fw).run()
    except Exception as e:  # anything: sleep, retry, and let the boot guard count it
        print("wake failed:", repr(e))
        return CRASH_SLEEP_S
