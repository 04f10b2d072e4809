"""Flash queue: readings survive reboots and power cuts until the broker acknowledged them.

Records are appended to `<prefix>.dat` as

    [length: 1 byte][payload: length bytes][CRC-16/CCITT-FALSE of payload: 2 bytes, big end]

and `<prefix>.meta` holds "<head offset> <dropped total> <reported total>", replaced by
rename (atomic on littlefs and POSIX). A power cut during an append leaves at most that
record torn; on open the queue scans from the head and stops at the first record that
runs past the end or fails its CRC, then rewrites the good part (MicroPython files
cannot truncate).
A power cut after a publish but before pop() only means that record is sent again;
the gateway drops the duplicate by (bin, seq).

The queue holds at most max_bytes of records; appending beyond drops the oldest and
counts them in `dropped`, never silently: the node puts the total on its status topic
(firmware/node.py) and then calls mark_reported(), so `reported` trails `dropped`
until the next report got through.

    q = FlashQueue("/data/q", max_bytes=64 * 1024)
    q.append(payload_bytes)
    for body in q.peek(8): ...publish, wait for PUBACK...
    q.pop(n_acknowledged)
"""

import os

from firmware.core.compat import const
from firmware.core.crc import crc16
from firmware.core.flashfile import read_text, write_atomic

_MAX_PAYLOAD = const(255)
_OVERHEAD = const(3)  # length byte + CRC
_COPY_CHUNK = const(256)  # compaction copies through one small reused buffer


def _exists(path: str) -> bool:
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class FlashQueue:
    """Append-only record file with a persisted head, bounded, torn-tail safe."""

    def __init__(self, prefix: str, max_bytes: int = 65536) -> None:
        self._dat = prefix + ".dat"
        self._meta = prefix + ".meta"
        self._max = max_bytes
        self.head = 0
        self.dropped = 0
        self.reported = 0
        self._offsets: list[int] = []  # offset of every live record, oldest first
        self._end = 0
        self._load_meta()
        self._recover()

    # -- persistence -----------------------------------------------------------------

    def _load_meta(self) -> None:
        try:
            parts = (read_text(self._meta) or "").split()
            self.head = int(parts[0])
            self.dropped = int(parts[1])
            self.reported = int(parts[2]) if len(parts) > 2 else 0
        except (ValueError, IndexError):
            self.head = 0
            self.dropped = 0
            self.reported = 0

    def _store_meta(self) -> None:
        write_atomic(self._meta, str(self.head) + " " + str(self.dropped) + " " +
                     str(self.reported))

    def mark_reported(self) -> None:
        """The dropped total went out (the broker acknowledged the status message)."""
        if self.reported != self.dropped:
            self.reported = self.dropped
            self._store_meta()

    def _recover(self) -> None:
        """Index the records from head; cut a torn or corrupt tail. Reads one record at a time."""
        if not _exists(self._dat):
            with open(self._dat, "wb"):
                pass
        size = os.stat(self._dat)[6]
        if self.head > size:
            self.head = 0
        pos = self.head
        offsets = []
        with open(self._dat, "rb") as f:
            f.seek(pos)
            while pos < size:
                head = f.read(1)
                n = head[0] if head else 0
                if n == 0 or pos + 1 + n + 2 > size:
                    break
                rest = f.read(n + 2)
                if len(rest) != n + 2 or crc16(rest[:n]) != (rest[n] << 8 | rest[n + 1]):
                    break
                offsets.append(pos)
                pos += 1 + n + 2
        if pos != size or (self.head > 0 and self.head * 2 > size):
            self._rewrite(offsets, pos)
        else:
            self._offsets = offsets
            self._end = pos

    def _rewrite(self, offsets: list[int], end: int) -> None:
        """Copy the live records [offsets[0], end) to a fresh file and swap it in."""
        start = offsets[0] if offsets else end
        tmp = self._dat + ".tmp"
        buf = bytearray(_COPY_CHUNK)
        view = memoryview(buf)
        with open(self._dat, "rb") as src, open(tmp, "wb") as dst:
            src.seek(start)
            left = end - start
            while left > 0:
                n = src.readinto(buf)
                if not n:
                    break
                n = min(n, left)
                dst.write(view[:n])
                left -= n
        os.rename(tmp, self._dat)
        self._offsets = [o - start for o in offsets]
        self._end = end - start
        self.head = 0
        self._store_meta()

    # -- queue -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._offsets)

    def used_bytes(self) -> int:
        """Bytes of live records."""
        return self._end - self.head

    def append(self, payload: bytes) -> None:
        """Store one payload durably, dropping the oldest records if the queue is full."""
        n = len(payload)
        if n == 0 or n > _MAX_PAYLOAD:
            raise ValueError("payload: length must be 1.." + str(_MAX_PAYLOAD))
        size = n + _OVERHEAD
        if size > self._max:
            raise ValueError("payload: larger than the queue")
        dropped = 0
        while self.used_bytes() + size > self._max and self._offsets:
            self._offsets.pop(0)
            self.head = self._offsets[0] if self._offsets else self._end
            dropped += 1
        if dropped:
            self.dropped += dropped
            self._store_meta()
        crc = crc16(payload)
        record = bytes([n]) + payload + bytes([crc >> 8, crc & 0xFF])
        with open(self._dat, "ab") as f:
            f.write(record)
        self._offsets.append(self._end)
        self._end += size

    def peek(self, count: int) -> list[bytes]:
        """Return up to count oldest payloads without removing them."""
        out: list[bytes] = []
        if not self._offsets:
            return out
        take = self._offsets[:count]
        last = self._offsets[count] if count < len(self._offsets) else self._end
        with open(self._dat, "rb") as f:
            f.seek(take[0])
            chunk = f.read(last - take[0])
        for o in take:
            rel = o - take[0]
            n = chunk[rel]
            out.append(chunk[rel + 1:rel + 1 + n])
        return out

    def pop(self, count: int) -> None:
        """Forget the count oldest records (the broker acknowledged them)."""
        if count <= 0:
            return
        del self._offsets[:count]
        self.head = self._offsets[0] if self._offsets else self._end
        if not self._offsets or self.head * 2 > self._end:
            # Mostly consumed: compact so the file does not grow without end.
            self._rewrite(self._offsets, self._end)
        else:
            self._store_meta()
