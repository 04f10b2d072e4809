"""Serial provisioning and calibration: `binfleet provision` (pyserial) against the
firmware's own handler over a real pseudo-terminal pair, with a simulated load cell."""

import json
import os
import subprocess
import sys
import threading
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.core import scale
from firmware.provision import Provisioner

TARE = 84_211
COUNTS_PER_KG = 21_537


class Device:
    """The bin on the other end of the wire: Provisioner + a load cell whose load we set."""

    def __init__(self, tmp_path: Path) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        self.port = os.ttyname(self.slave)
        self.load_kg = 0.0
        self.config_path = tmp_path / "config.json"
        self.handler = Provisioner(str(self.config_path), self._counts)
        self._buf = b""
        self._thread = threading.Thread(
            target=self.handler.serve, args=(self._readline, self._write), daemon=True)
        self._thread.start()

    def _counts(self) -> int:
        return int(TARE + self.load_kg * COUNTS_PER_KG)

    def _readline(self) -> bytes:
        while b"\n" not in self._buf:
            try:
                chunk = os.read(self.master, 256)
            except OSError:
                return b""
            if not chunk:
                return b""
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line + b"\n"

    def _write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        os.close(self.slave)
        os.close(self.master)


@pytest.fixture
def device(tmp_path: Path) -> Iterator[Device]:
    """A simulated bin listening on a pty."""
    d = Device(tmp_path)
    yield d
    d.close()


def provision(port: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `binfleet provision --port PORT ...`."""
    return subprocess.run([sys.executable, "-m", "binfleet.cli", "provision", "--port", port,
                           *args], capture_output=True, text=True, timeout=60, check=False)


def test_provision_tare_calibrate_and_save(device: Device) -> None:
    """Set identity and geometry, tare empty, calibrate with 10 kg, save; weights come out right."""
    out = provision(device.port, "--set", "bin_id=bin-0042", "--set", "depth_mm=1100",
                    "--set", "wifi_ssid=depot", "--set", "wifi_pass=s3cret", "--tare")
    assert out.returncode == 0, out.stderr
    assert "OK tare_counts=84211" in out.stdout
    device.load_kg = 10.0  # the technician puts a 10 kg test mass in the bin
    out = provision(device.port, "--cal", "10000", "--save")
    assert out.returncode == 0, out.stderr
    assert "OK cal=215370/10000" in out.stdout
    saved = json.loads(device.config_path.read_text())
    assert saved["bin_id"] == "bin-0042"
    assert saved["depth_mm"] == 1100
    # The saved calibration turns the counts of a 37.5 kg load into 37.5 kg.
    counts = int(TARE + 37.5 * COUNTS_PER_KG)
    assert scale.grams(counts, saved["tare_counts"], saved["cal_counts"],
                       saved["cal_grams"]) == 37_500
    shown = provision(device.port).stdout
    assert '"wifi_pass": "***"' in shown
    assert "s3cret" not in shown


def test_bad_input_is_refused_by_name(device: Device) -> None:
    """Unknown keys, bad values, calibration before tare: ERR naming the field, exit 1."""
    out = provision(device.port, "--set", "depth_mm=12")
    assert out.returncode == 1
    assert "ERR depth_mm: must be within 100..5000" in out.stderr
    out = provision(device.port, "--set", "colour=green")
    assert "ERR colour: unknown key" in out.stderr
    out = provision(device.port, "--set", "bin_id=bin 42")
    assert "ERR bin_id: only letters" in out.stderr
    out = provision(device.port, "--cal", "10000")
    assert "ERR tare_counts: run TARE first" in out.stderr
    out = provision(device.port, "--tare", "--cal", "10000")  # nothing on the scale
    assert "ERR cal: loaded_counts: equal to tare" in out.stderr
    assert not device.config_path.exists()  # nothing saved
