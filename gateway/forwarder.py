"""Forwarder: batches from the buffer to cloud_ingest over HTTP, deleted only after a 2xx.

Oldest first, one request at a time, so order per bin is kept. Bodies are gzip'd JSON
ingest batches (protocol.batch) whose id is derived from their (bin, seq) keys.
Failures back off exponentially with full jitter; 429/503 honour Retry-After; 413
halves the batch; a 400 that names one reading dead-letters that reading alone and
retries the rest.

Removing a confirmed batch from the buffer (a write transaction) runs on a second
thread while the next batch is already on its way, so cloud_ingest is not left idle
meanwhile: the next batch is read after the confirmed one by id. If that removal
fails, or the process dies before it commits, the batch is sent again, which
cloud_ingest takes as a no-op (idempotent by batch id and by (bin, seq)).
"""

import gzip
import json
import logging
import random
import re
import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import httpx

from gateway.buffer import Buffer, Event, Row
from gateway.config import GatewayConfig
from gateway.errors import BufferUnavailable
from gateway.stats import Counters
from protocol import batch

log = logging.getLogger(__name__)

# gzip level 1: most of the size win for little CPU on a 2-core gateway.
GZIP_LEVEL = 1
# How long an idle forwarder sleeps before looking at the buffer again.
IDLE_POLL_S = 0.5
_BATCH_INDEX = re.compile(r"^readings\[\d+\]\.")
# How often forwarded keys older than the de-duplication window are forgotten.
PRUNE_EVERY_S = 60.0


class Forwarder:
    """Owns the forwarding thread."""

    def __init__(self, cfg: GatewayConfig, counters: Counters, wake: threading.Event) -> None:
        """Prepare; nothing is sent before start()."""
        self._cfg = cfg
        self._counters = counters
        self._wake = wake
        self._stop = threading.Event()
        self._batch_max = cfg.batch_max
        self._failures = 0
        self._last_prune = 0.0
        self._thread = threading.Thread(target=self._run, name="gw-forward", daemon=True)
        # Confirmed batches are removed from the buffer on this thread, with its own
        # connection; at most one removal is pending at a time.
        self._remover = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gw-remove")
        self._remover_buffer: Buffer | None = None
        self._removing: Future[None] | None = None
        # Readings and events with ids up to these were confirmed (their removal may be
        # pending); the next batch starts after them.
        self._after = 0
        self._events_after = 0

    def start(self) -> None:
        """Start forwarding."""
        self._thread.start()

    def stop(self, drain_s: float = 0.0) -> None:
        """Stop, after trying for up to drain_s seconds to empty the buffer."""
        deadline = time.monotonic() + drain_s
        if drain_s > 0:
            probe = Buffer(self._cfg.buffer_path)
            try:
                while time.monotonic() < deadline and probe.depth() > 0:
                    self._wake.set()
                    time.sleep(0.05)
            finally:
                probe.close()
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self._cfg.http_timeout_s + 5)

    def _run(self) -> None:
        buffer = Buffer(self._cfg.buffer_path, synchronous="NORMAL")
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        if self._cfg.ingest_token:
            headers["Authorization"] = f"Bearer {self._cfg.ingest_token}"
        try:
            with httpx.Client(timeout=self._cfg.http_timeout_s, headers=headers) as http:
                while not self._stop.is_set():
                    rows = buffer.oldest(self._batch_max, self._after)
                    events = buffer.oldest_events(self._batch_max, self._events_after)
                    if not rows and not events:
                        # Nothing new: let the last removal finish before idling.
                        if self._removed():
                            self._wake.wait(IDLE_POLL_S)
                            self._wake.clear()
                        else:
                            self._stop.wait(self._backoff())
                        continue
                    pause = self._send(http, buffer, rows, events)
                    self._maybe_prune(buffer)
                    if pause > 0:
                        self._stop.wait(pause)
        finally:
            self._removed()
            self._remover.submit(self._close_remover).result()
            self._remover.shutdown()
            buffer.close()

    def _remove(self, rows: list[Row], event_ids: list[int]) -> None:
        """On the remover thread: take a confirmed batch out of the buffer."""
        if self._remover_buffer is None:
            try:
                self._remover_buffer = Buffer(self._cfg.buffer_path, synchronous="NORMAL")
            except sqlite3.Error as e:
                raise BufferUnavailable(f"buffer open failed: {e}") from e
        self._remover_buffer.forwarded(rows, event_ids)

    def _close_remover(self) -> None:
        if self._remover_buffer is not None:
            self._remover_buffer.close()
            self._remover_buffer = None

    def _removed(self) -> bool:
        """Wait for the pending removal; False if it failed, in which case the confirmed
        readings it held are read and sent again (a no-op for cloud_ingest)."""
        removing, self._removing = self._removing, None
        if removing is None:
            return True
        try:
            removing.result()
            return True
        except BufferUnavailable as e:
            log.error("%s; confirmed readings stay buffered and go again", e)
            self._after = self._events_after = 0
            return False

    def _maybe_prune(self, buffer: Buffer) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = now
        cutoff = int(time.time() * 1000) - self._cfg.dedup_window_s * 1000
        try:
            buffer.prune_forwarded(cutoff)
        except BufferUnavailable as e:
            log.error("%s", e)

    def _backoff(self, retry_after: str | None = None) -> float:
        self._failures += 1
        if retry_after is not None:
            try:
                return min(float(retry_after), self._cfg.retry_max_s)
            except ValueError:
                pass
        cap = min(self._cfg.retry_max_s, self._cfg.retry_min_s * 2 ** (self._failures - 1))
        return random.uniform(self._cfg.retry_min_s / 2, cap)

    def _send(self, http: httpx.Client, buffer: Buffer, rows: list[Row],
              events: list[tuple[int, Event]]) -> float:
        """Send one batch; return how long to pause before the next attempt."""
        keys = [(r.bin_id, r.seq) for r in rows] + [(f"event-{i}", 0) for i, _ in events]
        body = batch.encode_raw(
            self._cfg.gateway_id, keys, [r.body for r in rows],
            [e.to_wire() for _, e in events])
        started = time.monotonic()
        try:
            resp = http.post(self._cfg.ingest_url, content=gzip.compress(body, GZIP_LEVEL))
        except httpx.HTTPError as e:
            self._counters.add("forward_errors")
            pause = self._backoff()
            log.warning("forward failed (%s); %d readings kept, retry in %.1f s",
                        type(e).__name__, len(rows), pause)
            return pause
        status = resp.status_code
        try:
            if 200 <= status < 300:
                self._counters.add("forwarded", len(rows))
                self._counters.add("forward_ms", int((time.monotonic() - started) * 1000))
                self._counters.add("forward_batches")
                self._batch_max = min(self._cfg.batch_max, self._batch_max * 2)
                if not self._removed():  # the previous batch's removal failed
                    return self._backoff()
                self._failures = 0
                if rows:
                    self._after = rows[-1].id
                if events:
                    self._events_after = events[-1][0]
                self._removing = self._remover.submit(self._remove, rows,
                                                      [i for i, _ in events])
                return 0.0
            if status == 413 and len(rows) + len(events) > 1:
                self._batch_max = max(1, len(rows) // 2)
                log.warning("batch of %d too large for cloud_ingest; now %d", len(rows),
                            self._batch_max)
                return 0.0
            if status == 400:
                bad = self._rejected_index(resp)
                if bad is not None and bad < len(rows):
                    detail = resp.json()["error"]
                    # "readings[3].fill_pct" names a place in a batch no one will see again.
                    field = _BATCH_INDEX.sub("", str(detail["field"]))
                    buffer.dead_letter_rows([rows[bad]], field, str(detail["rule"]))
                    self._counters.add("dead_lettered")
                    log.error("cloud_ingest rejected %s/%s for good: %s", rows[bad].bin_id,
                              rows[bad].seq, detail)
                    return 0.0
        except BufferUnavailable as e:
            log.error("%s", e)
            return self._backoff()
        self._counters.add("forward_errors")
        pause = self._backoff(resp.headers.get("Retry-After"))
        log.warning("cloud_ingest answered %d; %d readings kept, retry in %.1f s", status,
                    len(rows), pause)
        return pause

    @staticmethod
    def _rejected_index(resp: httpx.Response) -> int | None:
        try:
            index = resp.json()["error"]["index"]
        except (json.JSONDecodeError, KeyError, TypeError):
            return None
        return index if isinstance(index, int) else None
