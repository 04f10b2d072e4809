"""Serial provisioning and calibration: the device side of `binfleet provision`.

One command per line, one reply per command:

    GET                  OK {"bin_id": ..., ...}      (the Wi-Fi password shown as ***)
    SET <key> <value>    OK <key>  |  ERR <key>: <reason>
    TARE                 OK tare_counts=<n>           (bin empty, nothing on the scale)
    CAL <grams>          OK cal=<counts>/<grams>      (a known mass on the scale)
    SAVE                 OK saved                     (written to flash by atomic rename)

Tare and calibration change only through these commands: the firmware never tares at
boot, since a bin may wake with waste in it.

    p = Provisioner("/config.json", read_counts)
    reply = p.handle("SET depth_mm 1100")
"""

import json

from firmware.core import reading, scale
from firmware.core.flashfile import write_atomic

# key: (kind, low, high); strings are length-bounded.
KEYS = {
    "bin_id": ("str", 1, 32),
    "wifi_ssid": ("str", 1, 32),
    "wifi_pass": ("str", 0, 64),
    "broker_host": ("str", 1, 64),
    "broker_port": ("int", 1, 65535),
    "depth_mm": ("int", 100, 5000),
    "offset_mm": ("int", 0, 2000),
    "dead_zone_mm": ("int", 0, 1000),
    "bottom_mm": ("int", 0, 5000),
    "top_mm": ("int", 0, 5000),
}
_SAMPLES = 15  # load-cell samples averaged (median) for tare and calibration


class Provisioner:
    """Holds the config being edited; read_counts() returns one load-cell sample."""

    def __init__(self, path: str, read_counts: object) -> None:
        self.path = path
        self.read_counts = read_counts
        try:
            with open(path) as f:
                self.config = json.load(f)
        except (OSError, ValueError):
            self.config = {}

    def _counts(self) -> int:
        samples = sorted(int(self.read_counts()) for _ in range(_SAMPLES))  # type: ignore[operator]
        return samples[len(samples) // 2]

    def _set(self, key: str, value: str) -> str:
        if key not in KEYS:
            return "ERR " + key + ": unknown key"
        kind, low, high = KEYS[key]
        if kind == "int":
            try:
                number = int(value)
            except ValueError:
                return "ERR " + key + ": must be an integer"
            if not low <= number <= high:
                return "ERR " + key + ": must be within " + str(low) + ".." + str(high)
            self.config[key] = number
        else:
            if not low <= len(value) <= high:
                return "ERR " + key + ": length must be " + str(low) + ".." + str(high)
            if key == "bin_id":
                try:
                    reading.BinConfig(value, 1000, 0, 0, 0, 1, 1, "x")
                except ValueError as e:
                    return "ERR " + str(e)
            self.config[key] = value
        return "OK " + key

    def handle(self, line: str) -> str:
        """Run one command line; return the reply line (without newline)."""
        parts = line.strip().split(" ", 2)
        cmd = parts[0].upper() if parts and parts[0] else ""
        if cmd == "GET":
            shown = dict(self.config)
            if "wifi_pass" in shown:
                shown["wifi_pass"] = "***"  # noqa: S105 - a mask, not a password
            return "OK " + json.dumps(shown)
        if cmd == "SET":
            if len(parts) < 3:
                return "ERR command: SET needs a key and a value"
            return self._set(parts[1], parts[2])
        if cmd == "TARE":
            self.config["tare_counts"] = self._counts()
            return "OK tare_counts=" + str(self.config["tare_counts"])
        if cmd == "CAL":
            if "tare_counts" not in self.config:
                return "ERR tare_counts: run TARE first, with the scale empty"
            try:
                grams = int(parts[1])
                cal_counts, cal_grams = scale.calibrate(self.config["tare_counts"],
                                                        self._counts(), grams)
            except (IndexError, ValueError) as e:
                return "ERR cal: " + (str(e) if str(e) else "CAL needs the mass in grams")
            self.config["cal_counts"] = cal_counts
            self.config["cal_grams"] = cal_grams
            return "OK cal=" + str(cal_counts) + "/" + str(cal_grams)
        if cmd == "SAVE":
            write_atomic(self.path, json.dumps(self.config))
            return "OK saved"
        return "ERR command: unknown " + repr(cmd) + " (GET, SET, TARE, CAL, SAVE)"

    def serve(self, readline: object, write: object) -> None:
        """Answer commands until readline() returns an empty line (port closed)."""
        while True:
            line = readline()  # type: ignore[operator]
            if not line:
                return
            if isinstance(line, bytes):
                line = line.decode()
            if line.strip():
                write((self.handle(line) + "\n").encode())  # type: ignore[operator]
