"""The durable buffer: group commits, de-duplication across forwarding, dead letters, replay."""

import subprocess
import sys
import time
from pathlib import Path

from gateway.buffer import Accepted, Buffer, Event, Rejected
from gateway.committer import check_message


def acc(seq: int, bin_id: str = "bin-1") -> Accepted:
    """A buffered reading."""
    return Accepted(bin_id, seq, 1_000 + seq, f'{{"seq":{seq}}}')


def test_commit_dedupes_while_buffered_and_after_forwarding(tmp_path: Path) -> None:
    """(bin, seq) is stored once, also when it comes back after it was forwarded."""
    b = Buffer(tmp_path / "b.sqlite3")
    assert b.commit([acc(1), acc(2), acc(1)]) == (2, 1, 0)
    rows = b.oldest(10)
    assert [r.seq for r in rows] == [1, 2]
    b.forwarded(rows)
    assert b.depth() == 0
    assert b.commit([acc(1), acc(2), acc(3)]) == (1, 2, 0)
    # After the window the keys are forgotten (downstream is idempotent anyway).
    assert b.prune_forwarded(int(time.time() * 1000) + 1) == 2
    assert b.commit([acc(1)]) == (1, 0, 0)



def test_reading_on_after_a_batch_whose_removal_is_pending(tmp_path: Path) -> None:
    """oldest(after=id) starts past a batch still buffered; readings buffered later, and
    ones a failed removal left behind, are read in id order; a removal with gaps in its
    ids (a dead-lettered reading between) removes exactly its own rows."""
    b = Buffer(tmp_path / "b.sqlite3")
    b.commit([acc(s) for s in range(1, 7)])
    first = b.oldest(2)
    assert [r.seq for r in b.oldest(2, after=first[-1].id)] == [3, 4]
    b.commit([acc(7)])
    assert [r.seq for r in b.oldest(10, after=b.oldest(6)[-1].id)] == [7]
    b.dead_letter_rows([b.oldest(4)[3]], "x", "test")  # seq 4 leaves the buffer
    b.forwarded([r for r in b.oldest(10) if r.seq in (3, 5)])  # ids with a gap
    assert [r.seq for r in b.oldest(10)] == [1, 2, 6, 7]
    b.forwarded(first)
    assert [r.seq for r in b.oldest(10)] == [6, 7]
    b.commit([Event("bin-1", "online", 1), Event("bin-1", "offline", 2)])
    (first_id, _), = b.oldest_events(1)
    assert [e.status for _, e in b.oldest_events(10, after=first_id)] == ["offline"]


def test_dead_letters_keep_reason_and_evidence(tmp_path: Path) -> None:
    """A rejected message keeps topic, field, reason and at most 4 KB of payload."""
    b = Buffer(tmp_path / "b.sqlite3")
    b.commit([Rejected("bins/x/telemetry", b"x" * 100_000, "payload", "payload: too big")])
    [(_, _, topic, payload, field, reason)] = b.dead_letters()
    assert (topic, field, reason) == ("bins/x/telemetry", "payload", "payload: too big")
    assert len(payload) == 4096


def test_replay_buffers_what_now_passes(tmp_path: Path) -> None:
    """Replay re-checks: a letter that passes moves to the buffer, one that fails keeps a reason."""
    b = Buffer(tmp_path / "b.sqlite3")
    b.commit([Rejected("bins/a/telemetry", b"{}", "v", "old reason")])
    [(letter_id, *_)] = b.dead_letters()
    still = b.replay_dead_letter(letter_id, lambda t, p: check_message(t, p, 0))
    assert isinstance(still, Rejected)
    assert b.dead_letters()[0][5].startswith("v: unknown schema version")
    fixed = b.replay_dead_letter(letter_id, lambda t, p: acc(9, "a"))
    assert isinstance(fixed, Accepted)
    assert b.dead_letters() == []
    assert [r.seq for r in b.oldest(5)] == [9]
    assert b.replay_dead_letter(12345, lambda t, p: acc(1)) is None


def test_dead_letters_command_lists_and_replays(tmp_path: Path) -> None:
    """`binfleet gateway dead-letters` shows reasons and replays by id."""
    path = tmp_path / "b.sqlite3"
    b = Buffer(path)
    b.commit([Rejected("bins/a/telemetry", b"{not json", "payload", "payload: malformed JSON")])
    b.close()
    env_cfg = tmp_path / "gw.toml"
    env_cfg.write_text(f'[gateway]\nbuffer_path = "{path}"\n')
    base = [sys.executable, "-m", "binfleet.cli", "gateway", "dead-letters", "--config",
            str(env_cfg)]
    out = subprocess.run(base, capture_output=True, text=True, check=True, timeout=60).stdout
    assert "bins/a/telemetry  payload: malformed JSON  |{not json|" in out
    out = subprocess.run([*base, "--replay-all"], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    assert "still rejected: payload: malformed JSON" in out


def test_a_buffer_from_before_config_versions_is_upgraded_in_place(tmp_path: Path) -> None:
    """An events table without the config columns gains them; its queued events survive."""
    import sqlite3

    from gateway.buffer import Event

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, bin_id TEXT NOT NULL,"
               " status TEXT NOT NULL, ts_ms INTEGER NOT NULL)")
    db.execute("INSERT INTO events (bin_id, status, ts_ms) VALUES ('bin-1', 'offline', 7)")
    db.commit()
    db.close()
    b = Buffer(path)
    b.commit([Event("bin-1", "online", 8, 3, "v4 x: unknown key")])
    assert [e for _, e in b.oldest_events(10)] == [
        Event("bin-1", "offline", 7), Event("bin-1", "online", 8, 3, "v4 x: unknown key")]
