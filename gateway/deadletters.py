"""`binfleet gateway dead-letters`: list what was rejected, and replay it after a fix.

Replay checks a dead letter again with the current rules: if it passes it goes into
the buffer (and on to cloud_ingest), otherwise its reason is updated.
"""

import time

from gateway.buffer import Accepted, Buffer, Event
from gateway.committer import check_message
from gateway.config import GatewayConfig


def list_letters(cfg: GatewayConfig, limit: int) -> list[str]:
    """Return one line per dead letter, newest first."""
    buffer = Buffer(cfg.buffer_path)
    try:
        lines = []
        for letter_id, received_ms, topic, payload, _field, reason in buffer.dead_letters(limit):
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(received_ms / 1000))
            shown = payload[:80].decode("utf-8", "replace")
            lines.append(f"{letter_id:>8}  {when}Z  {topic}  {reason}  |{shown}|")
        return lines
    finally:
        buffer.close()


def replay(cfg: GatewayConfig, ids: list[int]) -> list[str]:
    """Replay the given dead letters; return one line per outcome."""
    buffer = Buffer(cfg.buffer_path)
    now_ms = int(time.time() * 1000)
    try:
        out = []
        for letter_id in ids:
            result = buffer.replay_dead_letter(
                letter_id, lambda topic, payload: check_message(topic, payload, now_ms))
            if result is None:
                out.append(f"{letter_id}: no such dead letter")
            elif isinstance(result, Accepted):
                out.append(f"{letter_id}: accepted, buffered as {result.bin_id}/{result.seq}")
            elif isinstance(result, Event):
                out.append(f"{letter_id}: accepted, {result.bin_id} {result.status}")
            else:
                out.append(f"{letter_id}: still rejected: {result.reason}")
        return out
    finally:
        buffer.close()


def all_ids(cfg: GatewayConfig) -> list[int]:
    """Every dead letter id, oldest first."""
    buffer = Buffer(cfg.buffer_path)
    try:
        return sorted(row[0] for row in buffer.dead_letters(limit=-1))
    finally:
        buffer.close()
