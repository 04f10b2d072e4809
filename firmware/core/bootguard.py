"""Boot counter and safe mode: a node that keeps crashing stops doing what crashes it.

Every boot counts as a possible crash until the wake completes and calls good(). After
max_bad boots in a row without good(), the node comes up in safe mode: main.py then
skips sensors and the normal cycle, reports its state on the status topic, keeps the
serial provisioning handler available, and sleeps long, so a bad config or a broken
sensor cannot drain the battery in a boot loop. The counter lives in a small file
(replaced by rename) so it survives the watchdog reset that ends a hung wake.

    guard = BootGuard("/data/boots")
    if guard.safe_mode: ...
    ...wake...
    guard.good()
"""

from firmware.core.compat import const
from firmware.core.flashfile import read_int, write_atomic

_MAX_BAD = const(3)


class BootGuard:
    """Counts boots that did not finish."""

    def __init__(self, path: str, max_bad: int = _MAX_BAD) -> None:
        self._path = path
        self.max_bad = max_bad
        self.bad = self._load() + 1  # this boot, until proven good
        self._store(self.bad)
        self.safe_mode = self.bad > max_bad

    def _load(self) -> int:
        return read_int(self._path)

    def _store(self, value: int) -> None:
        write_atomic(self._path, str(value))

    def good(self) -> None:
        """The wake completed: reset the count."""
        if self.bad:
            self.bad = 0
            self._store(0)

    def clear(self) -> None:
        """Leave safe mode (after a fix, e.g. from provisioning or a new remote config)."""
        self.good()
        self.safe_mode = False
