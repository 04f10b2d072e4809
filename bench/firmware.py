"""Firmware budget for the default config: bytes on the wire, radio wake-ups, battery life,
and MicroPython heap.

    python bench/firmware.py [--days 30]

A simulated bin (hardware/sim.py) runs the real firmware core and reporting policy
(firmware/core/policy.py) for --days of simulated time at the default 15-minute
interval, which the policy shortens near full and lengthens near empty. Wake-ups are
counted, not timed: the energy per wake comes from the model below.

Energy model (per wake; charge in millicoulombs = mA x s):
  radio wake (Wi-Fi with static IP, MQTT connect, QoS 1 publish, disconnect): 0.8 s,
      110 mC -- measured on MicroPython, quoted in issue 3 (DHCP: 2.9 s, 340 mC)
  sampling wake without radio: 0.35 s at 45 mA = 16 mC (assumed: boot from deep sleep
      ~0.25 s, HX711 10 samples at 80 SPS, 5 ultrasonic pings)
  deep sleep: 20 uA (assumed: ESP32 ~10 uA, regulator and divider ~8 uA, HX711 powered
      down ~1 uA) = 1.73 C a day
  battery: 2 x AA lithium, 3,000 mAh = 10,800 C, 85 % usable (cold, self-discharge)
A radio wake also samples, so it costs 110 mC in total, not 110 + 16.

The baseline in the same run is the naive policy: one radio wake per sample.
"""

import argparse
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import report
from firmware.core import binary, payload, reading
from firmware.core.policy import Policy, PolicyConfig
from hardware.sim import SimHardware

RADIO_WAKE_MC = 110.0
SAMPLE_WAKE_MC = 0.35 * 45
SLEEP_UA = 20.0
BATTERY_C = 3.0 * 3600 * 0.85
TOPIC = "bins/bin-0001/telemetry"
# MQTT PUBLISH QoS 1 overhead: fixed header (2) + topic length (2) + topic + packet id (2).
MQTT_OVERHEAD = 2 + 2 + len(TOPIC) + 2

ROOT = Path(__file__).resolve().parent.parent
HEAP = """
import gc, sys
sys.path.insert(0, '/app')
gc.collect()
before = gc.mem_alloc()
from firmware.core import binary, fill, fqueue, frame, payload, policy, reading
from firmware.core import sampling, scale, seq
gc.collect()
print(gc.mem_alloc() - before)
"""


def simulate(days: int, batch_size: int) -> tuple[int, int, int]:
    """Return (sampling wakes, radio wakes, readings) for days of simulated time."""
    cfg = reading.BinConfig("bin-0001", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
    hw = SimHardware(random.Random(3))
    policy = Policy(PolicyConfig(batch_size=batch_size))
    t_ms, end_ms = 0, days * 86_400_000
    wakes = radio = 0
    while t_ms < end_ms:
        distance, counts, battery, temp = hw.read()
        r = reading.make_reading(cfg, wakes, 1_764_800_000_000 + t_ms, True, distance, counts,
                                 battery, temp)
        wakes += 1
        send, _why = policy.on_reading(r)
        if send:
            radio += 1
            policy.sent(r)
        t_ms += policy.next_interval_s() * 1000
    return wakes, radio, wakes


def battery_years(wakes_per_day: float, radio_per_day: float) -> float:
    """Years on the battery under the energy model."""
    sample_only = wakes_per_day - radio_per_day
    per_day_c = (sample_only * SAMPLE_WAKE_MC + radio_per_day * RADIO_WAKE_MC) / 1000 \
        + SLEEP_UA * 86_400 / 1e6
    return BATTERY_C / per_day_c / 365


def heap_bytes() -> int:
    """Bytes of MicroPython heap the core modules take once imported (WebAssembly port)."""
    out = subprocess.run(["node", str(ROOT / "tests/firmware/run_mpy.mjs"), str(ROOT), HEAP],
                         capture_output=True, text=True, timeout=120, check=True, cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Simulate, model and report."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    cfg = reading.BinConfig("bin-0001", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
    r = reading.make_reading(cfg, 123456, 1_764_800_000_000, True, 650, 300_000, 3600, 215)
    json_bytes = len(payload.encode_json(r)) + MQTT_OVERHEAD
    per_msg = 20
    binary_bytes = (1 + per_msg * binary.SIZE + MQTT_OVERHEAD) / per_msg
    wakes, radio, _ = simulate(args.days, PolicyConfig().batch_size)
    naive_wakes, naive_radio, _ = simulate(args.days, 1)
    wakes_day, radio_day = wakes / args.days, radio / args.days
    years = battery_years(wakes_day, radio_day)
    naive_years = battery_years(naive_wakes / args.days, naive_radio / args.days)
    heap = heap_bytes()
    report("firmware", [
        ("bytes per reading, JSON", f"{json_bytes} (one reading per MQTT publish)"),
        ("bytes per reading, binary", f"{binary_bytes:.1f} ({per_msg} per publish; 24 B each)"),
        ("sampling wakes per day", f"{wakes_day:.1f} (15 min default, adaptive)"),
        ("radio wake-ups per day", f"{radio_day:.1f} (naive: {naive_radio / args.days:.1f})"),
        ("awake per wake (model)", "0.35 s sampling, 0.8 s with radio (static IP)"),
        ("battery estimate", f"{years:.1f} years (target > 5; naive policy "
                             f"{naive_years:.1f} years)"),
        ("MicroPython heap, core", f"{heap / 1024:.1f} KB after import (target < 40 KB)"),
    ], {"days_simulated": args.days, "json_bytes_per_reading": json_bytes,
        "binary_bytes_per_reading": round(binary_bytes, 1),
        "sampling_wakes_per_day": round(wakes_day, 1), "radio_wakes_per_day": round(radio_day, 1),
        "naive_radio_wakes_per_day": round(naive_radio / args.days, 1),
        "battery_years": round(years, 2), "naive_battery_years": round(naive_years, 2),
        "target_battery_years": 5, "heap_bytes_core": heap, "target_heap_bytes": 40 * 1024,
        "model": {"radio_wake_mC": RADIO_WAKE_MC, "sample_wake_mC": SAMPLE_WAKE_MC,
                  "sleep_uA": SLEEP_UA, "battery_C": BATTERY_C}})


if __name__ == "__main__":
    main()
