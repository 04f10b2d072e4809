"""Small state files on flash, replaced whole by rename so a power cut leaves the old one.

rename is atomic on littlefs, FAT and POSIX: a torn write only ever hits the temp file.

    write_atomic("/data/seq", "128")
    text = read_text("/data/seq")     # None if missing or unreadable
"""

import os


def read_text(path: str) -> str | None:
    """The file's text, or None if it cannot be read."""
    try:
        with open(path) as f:
            return str(f.read())
    except OSError:
        return None


def read_int(path: str, default: int = 0) -> int:
    """An integer stored with write_atomic, or default if missing or garbled."""
    text = read_text(path)
    try:
        return int(text.strip()) if text is not None else default
    except ValueError:
        return default


def write_atomic(path: str, text: str) -> None:
    """Replace the file with text via a temp file and rename."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)
