"""Reading sequence numbers that never repeat across reboots, with little flash wear.

The file holds the end of a lease of sequence numbers. It is rewritten once per
lease, before the first number of the lease is handed out; after a reboot
numbering resumes at the stored end, so a crash skips at most one lease and never
reuses a number. Across deep sleep the device keeps (next, lease end) in RTC memory
and resume()s from it, so a wake does not cost a lease or a flash write.

    seqs = SeqCounter("/data/seq")
    n = seqs.next()
"""

from firmware.core.compat import const
from firmware.core.flashfile import read_int, write_atomic

_LEASE = const(64)


class SeqCounter:
    """Monotonic per-bin counter persisted to one small file."""

    def __init__(self, path: str, lease: int = _LEASE) -> None:
        self._path = path
        self._lease = lease
        self._next = self._load()
        self._leased_to = self._next

    def _load(self) -> int:
        return read_int(self._path)

    def _store(self, value: int) -> None:
        write_atomic(self._path, str(value))

    @property
    def leased_to(self) -> int:
        """End of the current lease (the number stored on flash)."""
        return self._leased_to

    def resume(self, next_seq: int, leased_to: int) -> bool:
        """Continue from RTC memory's (next, lease end) if it matches the lease on flash.

        Anything else (RTC memory from before a power cut, garbage) is ignored and
        numbering goes on from the stored lease end, which never reuses a number.
        """
        stored = self._load()
        if leased_to != stored or not stored - self._lease <= next_seq <= stored:
            return False
        self._next = next_seq
        self._leased_to = leased_to
        return True

    def peek(self) -> int:
        """Return the number the next call to next() will give."""
        return self._next

    def next(self) -> int:
        """Return a fresh sequence number."""
        if self._next >= self._leased_to:
            self._leased_to = self._next + self._lease
            self._store(self._leased_to)
        n = self._next
        self._next = n + 1
        return n
