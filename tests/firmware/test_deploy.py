"""`binfleet firmware deploy` through mpremote to a MicroPython board on a serial line.

The board is the MicroPython WebAssembly port behind a pseudo-terminal pair, speaking
the raw REPL as firmware on a chip does (tests/firmware/mpy_device.mjs). mpremote runs
unmodified; the files it writes land in the board's filesystem, which the test reads
back when the board shuts down.
"""

import base64
import json
import os
import pty
import subprocess
import sys
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Board:
    """A MicroPython board whose serial port is `port` (a pty)."""

    def __init__(self, dump: Path, files: dict[str, bytes] | None = None) -> None:
        self.dump = dump
        master, slave = pty.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._fds = (master, slave)
        preload = dump.with_suffix(".preload.json")
        preload.write_text(json.dumps({k: base64.b64encode(v).decode()
                                       for k, v in (files or {}).items()}))
        self.proc = subprocess.Popen(
            ["node", str(ROOT / "tests/firmware/mpy_device.mjs"), str(dump), str(preload)],
            stdin=master, stdout=master, stderr=subprocess.DEVNULL, cwd=ROOT)

    def files(self) -> dict[str, bytes]:
        """Shut the board down and return its filesystem."""
        self.proc.terminate()
        self.proc.wait(30)
        for fd in self._fds:
            os.close(fd)
        return {k: base64.b64decode(v) for k, v in json.loads(self.dump.read_text()).items()}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A freshly built bundle."""
    out = tmp_path / "bundle"
    subprocess.run([sys.executable, "-m", "binfleet.cli", "firmware", "build", "--out",
                    str(out)], check=True, capture_output=True, timeout=120)
    return out


def deploy(bundle: Path, port: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI the way a technician would."""
    return subprocess.run([sys.executable, "-m", "binfleet.cli", "firmware", "deploy", "--out",
                           str(bundle), "--port", port], capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    """A board that already holds a provisioned config, queued data and an old module."""
    b = Board(tmp_path / "board.json", {
        "config.json": b'{"bin_id": "bin-9"}',
        "data/queue.dat": b"\x05queued",
        "firmware/retired.mpy": b"old",
    })
    yield b
    if b.proc.poll() is None:
        b.proc.kill()
        b.proc.wait(30)


def test_deploy_installs_the_bundle_and_keeps_the_boards_own_files(
        bundle: Path, board: Board) -> None:
    """Every bundle file arrives byte for byte at the board's root; the provisioned config
    and the flash queue stay; a module the new firmware dropped is gone."""
    proc = deploy(bundle, board.port)
    assert proc.returncode == 0, proc.stderr
    files = board.files()
    expected = {str(p.relative_to(bundle)): p.read_bytes() for p in bundle.rglob("*")
                if p.is_file() and p.name != "MANIFEST"}
    assert {k: v for k, v in files.items() if k in expected} == expected
    assert set(files) - set(expected) == {"config.json", "data/queue.dat"}
    assert files["config.json"] == b'{"bin_id": "bin-9"}'


def test_deploy_twice_is_the_same_as_once(bundle: Path, board: Board) -> None:
    """A redeploy over an installed bundle leaves the same files (no nested copies)."""
    assert deploy(bundle, board.port).returncode == 0
    assert deploy(bundle, board.port).returncode == 0
    files = board.files()
    assert not any(k.startswith("firmware/firmware") for k in files)
    assert files["firmware/core/fill.mpy"] == (bundle / "firmware/core/fill.mpy").read_bytes()


def test_deploy_to_a_missing_port_fails_clearly(bundle: Path, tmp_path: Path) -> None:
    """No board on the port: a non-zero exit and mpremote's reason, not a traceback."""
    proc = deploy(bundle, str(tmp_path / "ttyNONE"))
    assert proc.returncode == 1
    assert "binfleet firmware deploy: mpremote failed" in proc.stderr
    assert "Traceback" not in proc.stderr
