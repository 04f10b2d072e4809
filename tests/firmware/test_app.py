"""The device life cycle (firmware/app.py) on a simulated ESP32, against a real Mosquitto.

Every boot() is one deep-sleep wake running firmware.app.main() as main.py does: boot
guard, provisioned config, RTC memory, Wi-Fi with timeout and backoff, NTP, lid wake.
The radio traffic is real MQTT to a Mosquitto the test started.
"""

import json
import random
import time
from pathlib import Path

from firmware import app
from firmware.core.reading import FLAG_CLOCK_UNSYNCED, FLAG_LID_OPEN, FLAG_TILTED
from firmware.core.zeroing import FLAG_REZEROED
from hardware.sim import SimHardware
from hardware.sim_platform import Y2K_MS, SimPlatform
from tests.firmware.listener import Listener
from tests.servers import Mosquitto
from tests.services import wait_for


def provisioned(tmp_path: Path, port: int) -> SimPlatform:
    """A board whose /config.json `binfleet provision` has written."""
    (tmp_path / "config.json").write_text(json.dumps({
        "bin_id": "bin-fw", "wifi_ssid": "depot", "wifi_pass": "secret",
        "broker_host": "127.0.0.1", "broker_port": port, "depth_mm": 1000, "offset_mm": 150,
        "tare_counts": 84211, "cal_counts": 215000, "cal_grams": 10000}))
    p = SimPlatform(SimHardware(random.Random(5)), str(tmp_path))
    p.ntp_now = lambda: int(time.time() * 1000) - 3 * 86_400_000  # sleeps add simulated time
    return p


def readings(listener: Listener) -> list[tuple[int, int, int]]:
    """(seq, ts_ms, flags) of every reading received, in arrival order."""
    return [(r.seq, r.ts_ms, r.flags) for r in listener.readings()]


def test_unprovisioned_board_offers_serial_then_runs_once_provisioned(
        tmp_path: Path, mosquitto: Mosquitto, listener: Listener) -> None:
    """No config: the serial window opens and the board sleeps; provisioned over that
    window, the next boot samples and reports."""
    p = SimPlatform(SimHardware(random.Random(5)), str(tmp_path))
    p.ntp_now = lambda: int(time.time() * 1000) - 86_400_000
    assert p.boot() == app.UNPROVISIONED_SLEEP_S
    assert (p.provisioning_windows, p.wifi_attempts) == (1, 0)

    def provision(prov: object) -> None:
        for line in ("SET bin_id bin-fw", "SET wifi_ssid depot", "SET broker_host 127.0.0.1",
                     f"SET broker_port {mosquitto.port}", "SET depth_mm 1000", "TARE",
                     "CAL 10000", "SAVE"):
            assert prov.handle(line).startswith("OK"), line  # type: ignore[attr-defined]

    p.serial = provision
    p.hw.fill = 0.0  # type: ignore[attr-defined]
    assert p.boot() == app.UNPROVISIONED_SLEEP_S
    p.serial = None
    assert p.boot() == 900
    wait_for(lambda: len(readings(listener)) == 1, 30, "first reading")


def test_rtc_memory_carries_the_policy_and_ntp_sets_the_clock(
        tmp_path: Path, mosquitto: Mosquitto, listener: Listener) -> None:
    """Ten wakes make three radio wake-ups (the first; a heartbeat, since NTP moved the
    clock from 2000 to now; then a batch of eight), which only works if the policy
    survives deep sleep in RTC memory. The first reading, taken before Wi-Fi was up,
    carries the 2000-01-01 clock and the unsynced flag; the rest carry NTP time."""
    p = provisioned(tmp_path, mosquitto.port)
    for _ in range(10):
        assert p.boot() in (300, 900, 3600)
    wait_for(lambda: len(readings(listener)) == 10, 30, "ten readings")
    got = readings(listener)
    assert [seq for seq, _, _ in got] == list(range(10))
    assert len(listener.messages) == 3
    assert p.wifi_attempts == 3
    assert p.ntp_syncs == 1  # once per day, not per wake
    first_ts, first_flags = got[0][1], got[0][2]
    assert first_ts < Y2K_MS + 60_000
    assert first_flags & FLAG_CLOCK_UNSYNCED
    assert all(not flags & FLAG_CLOCK_UNSYNCED and ts > 1_700_000_000_000
               for _, ts, flags in got[1:])
    assert p.feeds >= 10 + len(listener.messages)  # every boot, and between messages


def test_no_wifi_backs_off_loses_nothing_and_fire_still_tries(
        tmp_path: Path, mosquitto: Mosquitto, listener: Listener) -> None:
    """With the access point gone, sending wakes skip the radio 1, 3, 7, 15 times between
    attempts; every reading waits in flash and arrives once, in order, when Wi-Fi is back.
    A fire reading tries the radio even while backing off."""
    p = provisioned(tmp_path, mosquitto.port)
    p.boot()
    wait_for(lambda: len(readings(listener)) == 1, 30, "first reading")
    p.wifi_up = False
    for _ in range(60):
        p.boot()
    # Every wake wants to send (the heartbeat after NTP moved the clock is overdue), so
    # wakes 2, 4, 8, 16, 32, 48 try: skips of 1, 3, 7, 15, 15. Without backoff: 60.
    assert p.wifi_attempts == 1 + 6
    attempts = p.wifi_attempts
    p.hw.temp_dc = lambda: 900  # type: ignore[attr-defined]
    p.boot()
    assert p.wifi_attempts == attempts + 1  # fire ignores the backoff
    p.hw.temp_dc = lambda: 180  # type: ignore[attr-defined]
    p.wifi_up = True
    for _ in range(20):
        p.boot()
        if len(readings(listener)) == 1 + 61:
            break
    wait_for(lambda: len(readings(listener)) >= 1 + 61, 30, "backlog delivered")
    assert [seq for seq, _, _ in readings(listener)][:62] == list(range(62))


def test_crash_loop_enters_safe_mode_and_tries_again_later(
        tmp_path: Path, mosquitto: Mosquitto, listener: Listener) -> None:
    """A sensor that makes every wake raise: three short sleeps, then safe mode (serial
    window, no sensors, no radio, a long sleep); fixed, the next boot runs normally."""
    p = provisioned(tmp_path, mosquitto.port)

    def broken(n: int = 5) -> object:
        raise OSError(5, "EIO")

    working = p.hw.read_samples  # type: ignore[attr-defined]
    p.hw.read_samples = broken  # type: ignore[attr-defined]
    assert [p.boot() for _ in range(3)] == [app.CRASH_SLEEP_S] * 3
    assert p.provisioning_windows == 1  # the power-up window, before the first crash
    assert p.boot() == app.SAFE_SLEEP_S
    assert (p.provisioning_windows, p.wifi_attempts) == (2, 0)
    p.hw.read_samples = working  # type: ignore[attr-defined]
    assert p.boot() == 900
    wait_for(lambda: len(readings(listener)) == 1, 30, "reading after recovery")


def test_lid_wake_reports_at_once_and_power_cut_keeps_the_queue(
        tmp_path: Path, mosquitto: Mosquitto, listener: Listener) -> None:
    """The lid switch ending a sleep makes that wake send; a power cut loses RTC memory
    and time, not queued readings or sequence numbers."""
    p = provisioned(tmp_path, mosquitto.port)
    for _ in range(3):
        p.boot()
    assert p.wifi_attempts == 2  # the first, a heartbeat after NTP; the third waits
    p.lid = True
    p.hw.lid_open = True  # type: ignore[attr-defined]
    p.boot()
    assert p.wifi_attempts == 3
    wait_for(lambda: len(readings(listener)) == 4, 30, "lid report")
    assert readings(listener)[3][2] & FLAG_LID_OPEN
    p.hw.lid_open = False  # type: ignore[attr-defined]
    p.hw.tilted = True  # type: ignore[attr-defined]
    p.boot()  # queued, not sent
    p.power_cut()
    p.boot()  # fresh RTC memory: reports at once (heartbeat), with the old reading first
    wait_for(lambda: len(readings(listener)) == 6, 30, "after power cut")
    got = readings(listener)
    # Deep sleeps continued the sequence from RTC memory; the power cut moved it to the
    # next flash lease (64), never back.
    assert [seq for seq, _, _ in got] == [0, 1, 2, 3, 4, 64]
    assert got[5][2] & FLAG_CLOCK_UNSYNCED  # sampled before NTP ran again
    assert got[4][2] & FLAG_TILTED
    assert not got[4][2] & FLAG_LID_OPEN


def test_scale_re_zeros_after_an_emptying_and_keeps_the_tare(
        tmp_path: Path, mosquitto: Mosquitto, listener: Listener) -> None:
    """The load cell drifts by 1.5 kg while the bin fills. After the truck empties it, the
    board's fill sensor sees the emptying: that reading weighs 0 kg and says it re-zeroed,
    /config.json holds the new tare, and the next wakes weigh the empty bin as 0 kg
    without re-zeroing again. Weights are read from what the broker delivered."""
    p = provisioned(tmp_path, mosquitto.port)
    hw = p.hw
    assert isinstance(hw, SimHardware)
    hw.step = lambda: None  # type: ignore[method-assign]  # the test sets the fill
    hw.fill = 0.7
    p.boot()
    hw.drift_g = 1500.0
    hw.fill = 0.0
    lid_wake_sends = 2
    for _ in range(lid_wake_sends):
        p.lid = True  # a lid wake reports at once, so both readings go out now
        p.boot()
    wait_for(lambda: len(readings(listener)) == 3, 30, "three readings")
    got = listener.readings()
    assert got[0].weight_kg is not None
    assert got[0].weight_kg > 50
    assert got[1].flags & FLAG_REZEROED
    assert got[1].weight_kg == 0
    assert not got[2].flags & FLAG_REZEROED
    assert got[2].weight_kg is not None
    assert got[2].weight_kg < 0.05
    tare = json.loads((tmp_path / "config.json").read_text())["tare_counts"]
    assert abs(tare - (84211 + 1500 * 21.5)) < 200


def test_scale_keeps_its_tare_when_the_emptied_bin_still_weighs_too_much(
        tmp_path: Path, mosquitto: Mosquitto, listener: Listener) -> None:
    """8 kg left after an emptying is not drift: no re-zero, and the weight is reported."""
    p = provisioned(tmp_path, mosquitto.port)
    hw = p.hw
    assert isinstance(hw, SimHardware)
    hw.step = lambda: None  # type: ignore[method-assign]
    hw.fill = 0.7
    p.boot()
    hw.fill, hw.drift_g = 0.0, 8000.0
    p.lid = True
    p.boot()
    wait_for(lambda: len(readings(listener)) == 2, 30, "two readings")
    got = listener.readings()
    assert not got[1].flags & FLAG_REZEROED
    assert got[1].weight_kg is not None
    assert 7.9 < got[1].weight_kg < 8.1
    assert json.loads((tmp_path / "config.json").read_text())["tare_counts"] == 84211
