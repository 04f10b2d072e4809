"""Firmware budget for the default config: bytes on the wire, radio wake-ups, battery life,
and MicroPython heap.

    python bench/firmware.py [--days 30]

A simulated bin (hardware/sim.py) runs the real firmware core and reporting policy
(firmware/core/policy.py) for --days of simulated time at the default 15-minute
interval, which the policy shortens near full and lengthens near empty. Wake-ups are
counted, not timed: the energy per wake comes from the model below.

Energy model (per wake; charge in millicoulombs = mA x s):
  sampling wake without radio: boot from deep sleep 0.25 s (assumed: ROM bootloader,
      MicroPython start, imports) plus the sensors' time, simulated: the real
      firmware/device/esp32.py and drivers read the default board (ESP32-DevKitC,
      JSN-SR04T, HX711 with RATE high, DS18B20, 5 pings) on simulated chips and a
      simulated clock (hardware/sim_esp32.py), which counts every wait on a chip;
      45 mA while the CPU runs (assumed: ESP32 at 160 MHz with Wi-Fi off ~27 mA, the
      powered sensors ~18 mA), 19 mA in machine.lightsleep between pings and while
      the DS18B20 converts (assumed: ESP32 ~0.8 mA, the sensors as before)
  radio wake (Wi-Fi with static IP, MQTT connect, QoS 1 publish, disconnect): 0.8 s,
      110 mC -- measured on MicroPython, quoted in issue 3 (DHCP: 2.9 s, 340 mC). That
      measurement includes a boot, so a wake that samples and sends costs the sampling
      wake plus 110 mC less one boot (0.25 s at 45 mA).
  deep sleep: 20 uA (assumed: ESP32 ~10 uA, regulator and divider ~8 uA, HX711 powered
      down ~1 uA) = 1.73 C a day
  battery: 2 x AA lithium, 3,000 mAh = 10,800 C, 85 % usable (cold, self-discharge)

The baseline in the same run is the naive policy: one radio wake per sample.

Heap: gc.mem_alloc() in the MicroPython WebAssembly port after importing from the
built .mpy bundle, as a board loads it, and after a garbage collection. That port
collects only back at its top level (gc.collect() in a call just marks a collection
pending), so the snippet returns there ("#--- top level", tests/firmware/run_mpy.mjs)
before reading gc.mem_alloc(); without that the figures would include about 9 KB of
garbage the imports leave behind. "core" is firmware/core; "a wake" is what
main.py imports on an ESP32-DevKitC with an ultrasonic sensor and a DS18B20, without
and with the MQTT client that only sending wakes import. The WebAssembly port has no
machine, network, esp32, socket, ... modules; stand-ins are imported before measuring.
On an ESP32 those modules are built in or frozen, so their names (machine.deepsleep,
WLAN.isconnected, ...) are in the firmware's ROM qstr pool and cost a .mpy that uses
them nothing; the stand-ins therefore carry every name that MicroPython's own ESP32
stubs (micropython-esp32-stubs, installed by .ci/run into build/mpstubs) give those
modules, so the firmware is charged only for the names it brings itself. The same wake
measured with bare stand-ins is reported beside it.
"""

import argparse
import ast
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import report
from binfleet.firmware_build import board_json, build
from firmware.core import binary, payload, reading
from firmware.core.policy import Policy, PolicyConfig
from hardware.sim import SimHardware
from hardware.sim_esp32 import SimEsp32

RADIO_MEASURED_MC = 110.0
SAMPLES = 5  # distance samples a wake takes by default (remote config "samples")
BOOT_S = 0.25
AWAKE_MA = 45.0
LIGHT_SLEEP_MA = 19.0
SLEEP_UA = 20.0
BATTERY_C = 3.0 * 3600 * 0.85
TOPIC = "bins/bin-0001/telemetry"
# MQTT PUBLISH QoS 1 overhead: fixed header (2) + topic length (2) + topic + packet id (2).
MQTT_OVERHEAD = 2 + 2 + len(TOPIC) + 2

ROOT = Path(__file__).resolve().parent.parent
HEAP = """
import gc, sys
sys.path.insert(0, '/app')
sys.path.insert(0, '/stubs')
import esp32, machine, network, ntptime, socket, ds18x20, onewire, select, json, os, struct
import micropython
gc.collect()
#--- top level
micropython.qstr_info()
before = gc.mem_alloc()
%s
gc.collect()
#--- top level
print(gc.mem_alloc() - before)
micropython.qstr_info()
"""
# A qstr pool is one allocation of 24 bytes plus 7 per entry (pointer, 2-byte hash,
# length byte; the same on the ESP32), and each new pool doubles the last one's entries:
# the heap figure includes entries reserved but not yet used, a step of several KB that
# moves with where the pool happens to fill up. Reported beside the figure.
_QSTR_INFO = re.compile(r"n_pool=(\d+), n_qstr=(\d+), n_str_data_bytes=(\d+), "
                        r"n_total_bytes=(\d+)")


def _pool_slack(line: str) -> int:
    n_pool, n_qstr, str_bytes, total = (int(g) for g in _QSTR_INFO.findall(line)[0])
    return total - str_bytes - 24 * n_pool - 7 * n_qstr
# firmware/core, less the modules imported only on rare events (remotecheck: a config
# arrived; zeroing: the bin was just emptied).
CORE = ("from firmware.core import binary, bootguard, fill, flashfile, fqueue, frame, payload\n"
        "from firmware.core import policy, reading, remote, rtcstate, sampling, scale, seq")
# What main.py imports on a wake of an ESP32-DevKitC with an ultrasonic sensor and a
# DS18B20 (esp32.Hardware imports the drivers of the parts the board has); a sending
# wake adds the MQTT client.
WAKE = ("from firmware import app\nfrom firmware.device import esp32\n"
        "from firmware.drivers import ultrasonic, ds18b20")
RADIO_WAKE = WAKE + "\nfrom firmware.net import mqtt"
# The WebAssembly port has no machine, network or socket: empty stand-ins, imported
# before the measurement starts, let the whole firmware import as it does on a board.
STUBS = {
    "machine.py": "class Pin:\n IN=OUT=PULL_UP=0\nclass ADC:\n ATTN_11DB=3\n"
                  "class I2C: pass\nclass RTC: pass\nclass WDT: pass\n"
                  "def disable_irq(): pass\ndef enable_irq(s): pass\n"
                  "def time_pulse_us(*a): pass\ndef lightsleep(ms): pass\n",
    "esp32.py": "WAKEUP_ALL_LOW=False\n", "network.py": "STA_IF=0\n", "ntptime.py": "",
    "socket.py": "", "ds18x20.py": "class DS18X20: pass\n",
    "onewire.py": "class OneWire: pass\nclass OneWireError(Exception): pass\n",
}


# Modules main.py's imports reach that the ESP32 firmware has built in or frozen.
ESP32_MODULES = ("machine", "esp32", "network", "ntptime", "socket", "onewire", "ds18x20")
MPSTUBS = ROOT / "build" / "mpstubs"


def _names(body: list[ast.stmt]) -> list[str]:
    out = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.append(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.append(node.target.id)
        elif isinstance(node, ast.Assign):
            out += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return out


def esp32_stand_ins() -> dict[str, str]:
    """Stand-in modules carrying every name the ESP32 port's stubs give each module, as
    plain attributes (nothing in them runs at import time)."""
    stubs = {}
    for module in ESP32_MODULES:
        pyi = MPSTUBS / f"{module}.pyi"
        if not pyi.is_file():
            pyi = MPSTUBS / module / "__init__.pyi"
        tree = ast.parse(pyi.read_text())
        lines = []
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                base = "(Exception)" if any(isinstance(b, ast.Name) and b.id.endswith(
                    ("Exception", "Error")) for b in node.bases) else ""
                members = sorted(set(_names(node.body)))
                lines.append(f"class {node.name}{base}:\n" + (
                    "".join(f" {m} = 0\n" for m in members) or " pass\n"))
            else:
                lines += [f"{n} = 0\n" for n in _names([node])]
        stubs[f"{module}.py"] = "".join(dict.fromkeys(lines))
    return stubs


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


def sensor_seconds(samples: int) -> tuple[float, float]:
    """Simulated seconds a wake spends on its sensors (the sensor rail switched on,
    esp32.Hardware(board).read_samples(samples) on the default board's chips), and how
    many of them in machine.lightsleep."""
    sim = SimEsp32(board_json("esp32-devkitc", "ultrasonic"))
    with sim.installed() as esp32:
        esp32.Hardware(sim.board).read_samples(samples)
    return sim.clock.us / 1e6, sim.clock.asleep_us / 1e6


def battery_years(wakes_per_day: float, radio_per_day: float, sample_mc: float) -> float:
    """Years on the battery under the energy model."""
    sample_only = wakes_per_day - radio_per_day
    radio_mc = sample_mc + RADIO_MEASURED_MC - BOOT_S * AWAKE_MA
    per_day_c = (sample_only * sample_mc + radio_per_day * radio_mc) / 1000 \
        + SLEEP_UA * 86_400 / 1e6
    return BATTERY_C / per_day_c / 365


def heap_bytes(imports: str, firmware: Path, stand_ins: dict[str, str]) -> tuple[int, int]:
    """Bytes of MicroPython heap (WebAssembly port) the imports take, from the firmware
    folder given (the .mpy bundle, as on a board, or the .py sources), and how many of
    them are qstr-pool entries reserved but unused."""
    with tempfile.TemporaryDirectory() as stubs:
        for name, text in stand_ins.items():
            Path(stubs, name).write_text(text)
        out = subprocess.run(
            ["node", str(ROOT / "tests/firmware/run_mpy.mjs"), str(ROOT), HEAP % imports,
             "--mount", f"{firmware}:/app/firmware", "--mount", f"{stubs}:/stubs"],
            capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    info_before, used, info_after = out.stdout.strip().splitlines()[-3:]
    return int(used), _pool_slack(info_after) - _pool_slack(info_before)


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
    sensors_s, asleep_s = sensor_seconds(SAMPLES)
    sample_mc = (BOOT_S + sensors_s - asleep_s) * AWAKE_MA + asleep_s * LIGHT_SLEEP_MA
    radio_mc = sample_mc + RADIO_MEASURED_MC - BOOT_S * AWAKE_MA
    years = battery_years(wakes_day, radio_day, sample_mc)
    naive_years = battery_years(naive_wakes / args.days, naive_radio / args.days, sample_mc)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle"
        build(bundle)  # the .mpy files a board runs
        rom = esp32_stand_ins()
        heap_core, slack_core = heap_bytes(CORE, bundle / "firmware", rom)
        heap_wake, slack_wake = heap_bytes(WAKE, bundle / "firmware", rom)
        heap_radio, slack_radio = heap_bytes(RADIO_WAKE, bundle / "firmware", rom)
        heap_radio_bare, slack_bare = heap_bytes(RADIO_WAKE, bundle / "firmware", STUBS)
        heap_wake_py, _ = heap_bytes(RADIO_WAKE, ROOT / "firmware", rom)
    report("firmware", [
        ("bytes per reading, JSON", f"{json_bytes} (one reading per MQTT publish)"),
        ("bytes per reading, binary", f"{binary_bytes:.1f} ({per_msg} per publish; 24 B each)"),
        ("sampling wakes per day", f"{wakes_day:.1f} (15 min default, adaptive)"),
        ("radio wake-ups per day", f"{radio_day:.1f} (naive: {naive_radio / args.days:.1f})"),
        ("awake per wake", f"{BOOT_S + sensors_s:.2f} s sampling ({BOOT_S} s boot, assumed; "
                           f"{sensors_s:.2f} s sensors, simulated, {asleep_s:.2f} s of it in "
                           f"light sleep): {sample_mc:.0f} mC; sending too: {radio_mc:.0f} mC"),
        ("battery estimate", f"{years:.1f} years (target > 5; naive policy "
                             f"{naive_years:.1f} years)"),
        ("MicroPython heap, core", f"{heap_core / 1024:.1f} KB after import from .mpy "
                                   "(target < 40 KB)"),
        ("MicroPython heap, a wake", f"{heap_wake / 1024:.1f} KB sampling only, "
                                     f"{heap_radio / 1024:.1f} KB sending, after main.py's "
                                     "imports from .mpy (target < 40 KB)"),
        ("  of which unused qstr pool", f"{slack_core / 1024:.1f} / {slack_wake / 1024:.1f} / "
                                        f"{slack_radio / 1024:.1f} KB (core / sampling / "
                                        "sending): reserved, not yet used"),
        ("  bare stand-ins", f"{heap_radio_bare / 1024:.1f} KB sending ("
                             f"{slack_bare / 1024:.1f} KB unused qstr pool), charged for the "
                             "ESP32 modules' own names too"),
        ("  from .py sources", f"{heap_wake_py / 1024:.1f} KB sending (for comparison)"),
    ], {"days_simulated": args.days, "json_bytes_per_reading": json_bytes,
        "binary_bytes_per_reading": round(binary_bytes, 1),
        "sampling_wakes_per_day": round(wakes_day, 1), "radio_wakes_per_day": round(radio_day, 1),
        "naive_radio_wakes_per_day": round(naive_radio / args.days, 1),
        "battery_years": round(years, 2), "naive_battery_years": round(naive_years, 2),
        "target_battery_years": 5, "sensor_s_per_wake": round(sensors_s, 3),
        "light_sleep_s_per_wake": round(asleep_s, 3),
        "sample_wake_mC": round(sample_mc, 1), "radio_wake_mC": round(radio_mc, 1),
        "heap_bytes_core": heap_core,
        "heap_bytes_wake": heap_wake, "heap_bytes_radio_wake": heap_radio,
        "heap_bytes_radio_wake_bare_stand_ins": heap_radio_bare,
        "qstr_pool_unused_bytes": {"core": slack_core, "wake": slack_wake,
                                   "radio_wake": slack_radio, "radio_wake_bare": slack_bare},
        "heap_bytes_radio_wake_from_py": heap_wake_py,
        "target_heap_bytes": 40 * 1024,
        "model": {"radio_wake_measured_mC": RADIO_MEASURED_MC, "boot_s": BOOT_S,
                  "awake_mA": AWAKE_MA, "light_sleep_mA": LIGHT_SLEEP_MA,
                  "sleep_uA": SLEEP_UA, "battery_C": BATTERY_C}})


if __name__ == "__main__":
    main()
