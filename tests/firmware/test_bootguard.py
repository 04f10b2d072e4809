"""Boot counter and safe mode."""

from pathlib import Path

from firmware.core.bootguard import BootGuard


def test_three_crashed_boots_then_safe_mode(tmp_path: Path) -> None:
    """Boots that never finish count up; the fourth comes up in safe mode."""
    path = str(tmp_path / "boots")
    modes = [BootGuard(path).safe_mode for _ in range(4)]  # each one "crashes"
    assert modes == [False, False, False, True]


def test_a_good_wake_resets_the_count(tmp_path: Path) -> None:
    """A completed wake clears the history; a crash later starts from one."""
    path = str(tmp_path / "boots")
    BootGuard(path)
    BootGuard(path)
    BootGuard(path).good()
    assert [BootGuard(path).safe_mode for _ in range(3)] == [False, False, False]
    g = BootGuard(path)
    assert g.safe_mode
    g.clear()
    assert not g.safe_mode
    assert not BootGuard(path).safe_mode


def test_torn_counter_file_is_a_fresh_start(tmp_path: Path) -> None:
    """Garbage in the file (power cut mid-write of the temp file never renamed) is safe."""
    (tmp_path / "boots").write_text("")
    assert not BootGuard(str(tmp_path / "boots")).safe_mode
