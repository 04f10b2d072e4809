"""A simulated ESP32 around firmware/app.py: RTC, RTC memory, Wi-Fi, NTP, lid, watchdog.

Each boot() is one deep-sleep wake: it runs firmware.app.main() as main.py does and
then "sleeps" by advancing the RTC by the seconds it returned. RTC memory persists
between boots and is lost by power_cut(), as on the chip. The RTC starts at
2000-01-01 (the ESP32's epoch after power-up) until ntp_sync() sets it from the host.
Wi-Fi and NTP can be switched off; the MQTT traffic is real (the host's loopback).
"""

import time
from collections.abc import Callable

from firmware import app

Y2K_MS = 946_684_800_000


class SimPlatform:
    """The board as firmware/app.py sees it."""

    def __init__(self, hw: object, root: str) -> None:
        self.hw = hw
        self.root = root
        self.rtc_ms = Y2K_MS
        self.rtc_memory = b""
        self.wifi_up = True  # an access point in range
        self.ntp_up = True
        self.ntp_now: Callable[[], int] = lambda: int(time.time() * 1000)
        self.lid = False  # the lid switch ends the next sleep
        self.powered_up = True  # the next boot is a power-up, not a deep-sleep wake
        self.feeds = 0
        self.wifi_attempts = 0
        self.wifi_on = False
        self.ntp_syncs = 0
        self.provisioning_windows = 0
        self.serial: Callable[[object], None] | None = None  # drives serve_provisioning
        self.sleeps: list[int] = []

    # -- what firmware/app.py calls --

    def feed(self) -> None:
        self.feeds += 1

    def now_ms(self) -> int:
        return self.rtc_ms

    def rtc_read(self) -> bytes:
        return self.rtc_memory

    def rtc_write(self, data: bytes) -> None:
        assert len(data) <= 2048, "ESP32 RTC user memory holds 2 KB"
        self.rtc_memory = bytes(data)

    def power_on(self) -> bool:
        return self.powered_up

    def woke_by_lid(self) -> bool:
        return self.lid

    def wifi_connect(self, ssid: str, password: str, timeout_ms: int, ip: object) -> bool:
        self.wifi_attempts += 1
        if not self.wifi_up:
            self.rtc_ms += timeout_ms  # the hard timeout passes
            return False
        self.wifi_on = True
        return True

    def wifi_off(self) -> None:
        self.wifi_on = False

    def ntp_sync(self) -> bool:
        if not self.ntp_up or not self.wifi_on:
            return False
        self.ntp_syncs += 1
        self.rtc_ms = self.ntp_now()
        return True

    def serve_provisioning(self, prov: object, window_ms: int) -> None:
        self.provisioning_windows += 1
        if self.serial is not None:
            self.serial(prov)

    # -- the test's side --

    def boot(self) -> int:
        """One wake as main.py runs it; then sleep. Returns the sleep in seconds."""
        self.wifi_on = False
        sleep_s = app.main(self, self.root)
        self.sleeps.append(sleep_s)
        self.rtc_ms += sleep_s * 1000
        self.lid = False
        self.powered_up = False
        return sleep_s

    def power_cut(self) -> None:
        """Batteries out and back: RTC memory and RTC time are gone, flash stays."""
        self.rtc_memory = b""
        self.rtc_ms = Y2K_MS
        self.powered_up = True
