"""The flash queue: order, persistence, bounds, and power cuts at every byte of a write."""

from pathlib import Path

import pytest

from firmware.core.fqueue import FlashQueue
from firmware.core.frame import crc16


def record(payload: bytes) -> bytes:
    """The on-flash bytes of one record."""
    crc = crc16(payload)
    return bytes([len(payload)]) + payload + bytes([crc >> 8, crc & 0xFF])


def test_fifo_survives_reopen(tmp_path: Path) -> None:
    """Records come back oldest first, also after a reboot; pop is persisted."""
    q = FlashQueue(str(tmp_path / "q"))
    for i in range(10):
        q.append(b"reading-%d" % i)
    assert q.peek(3) == [b"reading-0", b"reading-1", b"reading-2"]
    q.pop(3)
    q2 = FlashQueue(str(tmp_path / "q"))
    assert len(q2) == 7
    assert q2.peek(100) == [b"reading-%d" % i for i in range(3, 10)]
    q2.pop(7)
    assert len(FlashQueue(str(tmp_path / "q"))) == 0
    assert (tmp_path / "q.dat").stat().st_size == 0  # compacted when empty


def test_bounded_drops_oldest_and_counts(tmp_path: Path) -> None:
    """A full queue drops the oldest records, and says how many, across reboots."""
    q = FlashQueue(str(tmp_path / "q"), max_bytes=10 * (8 + 3))
    for i in range(25):
        q.append(b"rdg-%04d" % i)
    assert len(q) == 10
    assert q.dropped == 15
    assert q.peek(1) == [b"rdg-0015"]
    q2 = FlashQueue(str(tmp_path / "q"), max_bytes=10 * (8 + 3))
    assert q2.dropped == 15
    assert q2.peek(10) == [b"rdg-%04d" % i for i in range(15, 25)]


def test_file_does_not_grow_without_end(tmp_path: Path) -> None:
    """Append/pop cycles compact the file."""
    q = FlashQueue(str(tmp_path / "q"))
    for i in range(500):
        q.append(b"x" * 40)
        if i % 3 == 2:
            q.pop(3)
    assert (tmp_path / "q.dat").stat().st_size < 10 * 43


@pytest.mark.parametrize("payload", [b"{}", b'{"v":1,"bin":"bin-0001","seq":42}', b"\xff" * 255])
def test_power_cut_at_every_byte_of_an_append(tmp_path: Path, payload: bytes) -> None:
    """A write torn at any byte loses at most that record and keeps every earlier one."""
    earlier = [b"first", b"second", b"third"]
    full = record(payload)
    for cut in range(len(full) + 1):
        d = tmp_path / f"cut{cut}"
        d.mkdir()
        q = FlashQueue(str(d / "q"))
        for e in earlier:
            q.append(e)
        q.pop(1)  # a head that is not at the start of the file
        with open(d / "q.dat", "ab") as f:
            f.write(full[:cut])  # power lost after `cut` bytes reached flash
        after = FlashQueue(str(d / "q"))
        expected = earlier[1:] + ([payload] if cut == len(full) else [])
        assert after.peek(10) == expected, cut
        after.append(b"next")  # and the queue keeps working after recovery
        assert FlashQueue(str(d / "q")).peek(10) == [*expected, b"next"]


def test_corrupt_record_ends_the_queue_there(tmp_path: Path) -> None:
    """A record whose CRC fails (flash bit rot) and everything after it is cut, not sent."""
    q = FlashQueue(str(tmp_path / "q"))
    for i in range(5):
        q.append(b"rec-%d" % i)
    data = bytearray((tmp_path / "q.dat").read_bytes())
    data[len(record(b"rec-0")) * 2 + 2] ^= 0xFF  # inside rec-2's payload
    (tmp_path / "q.dat").write_bytes(bytes(data))
    assert FlashQueue(str(tmp_path / "q")).peek(10) == [b"rec-0", b"rec-1"]


def test_refuses_bad_payloads(tmp_path: Path) -> None:
    """Empty and over-long payloads are refused by name."""
    q = FlashQueue(str(tmp_path / "q"))
    with pytest.raises(ValueError, match="payload"):
        q.append(b"")
    with pytest.raises(ValueError, match="payload"):
        q.append(b"x" * 256)
