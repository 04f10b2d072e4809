"""The HTTP API: gateway batches in, fleet state out. OpenAPI at /openapi.json, docs at /docs.

POST /api/v1/ingest answers:
    200 {"accepted": n}                  written to the series store and the fleet state
    400 {"error": {field, rule, index}}  the batch breaks protocol.batch (index: the reading)
    401                                  missing or unknown gateway token
    413                                  body larger than max_body_bytes once decompressed
    503 + Retry-After                    a store is unreachable; the gateway keeps the batch
Nothing is acknowledged before it is written.
"""

import asyncio
import gzip
import hashlib
import hmac
import logging
import re
import threading
import time
import zlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from cloud_ingest.api import read_routes
from cloud_ingest.config import IngestConfig
from cloud_ingest.errors import StoreUnavailable
from cloud_ingest.series import SeriesWriter
from cloud_ingest.state import FleetState
from cloud_ingest.stream import Broadcaster
from protocol import batch
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)

_ERROR = {"type": "object", "properties": {"error": {
    "type": "object", "required": ["field", "rule"],
    "properties": {"field": {"type": "string"}, "rule": {"type": "string"},
                   "index": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}}}
INGEST_OPENAPI: dict[str, Any] = {
    "requestBody": {"required": True, "description": (
        "A gateway batch (docs/protocol.md#ingest-batch), optionally gzip'd "
        "(Content-Encoding: gzip). Readings must also not be more than 600 s in the future."),
        "content": {"application/json": {"schema": batch.json_schema()}}},
    "responses": {
        "200": {"description": "written to the series store and the fleet state",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["accepted", "events", "batch_id"],
                    "properties": {"accepted": {"type": "integer"},
                                   "events": {"type": "integer"},
                                   "batch_id": {"type": "string"}}}}}},
        "400": {"description": "the batch breaks the protocol: field, rule and reading index",
                "content": {"application/json": {"schema": _ERROR}}},
        "401": {"description": "missing or unknown gateway token",
                "content": {"application/json": {"schema": _ERROR}}},
        "413": {"description": "larger than max_body_bytes once decompressed",
                "content": {"application/json": {"schema": _ERROR}}},
        "503": {"description": "a store is unreachable; retry after Retry-After seconds",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                "content": {"application/json": {"schema": _ERROR}}},
    },
}

_INDEX_RE = re.compile(r"^readings\[(\d+)\]")


class IngestCounters:
    """What the ingest endpoint handled."""

    def __init__(self) -> None:
        """Start at zero."""
        self._lock = threading.Lock()
        self.values: dict[str, int] = {}

    def add(self, name: str, n: int = 1) -> None:
        """Add n to a counter."""
        with self._lock:
            self.values[name] = self.values.get(name, 0) + n


def _error(status: int, field: str, rule: str, index: int | None = None) -> JSONResponse:
    body = {"error": {"field": field, "rule": rule, "index": index}}
    return JSONResponse(body, status_code=status)


def _decompress(raw: bytes, limit: int) -> bytes:
    """Gunzip with a size limit so a small bomb cannot fill memory."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(raw, limit + 1)
    if len(out) > limit or d.unconsumed_tail:
        raise OverflowError
    if not d.eof:
        raise gzip.BadGzipFile("truncated gzip stream")
    return out


def create_app(cfg: IngestConfig, writer: SeriesWriter, state: FleetState) -> FastAPI:
    """Build the app around a series writer and the fleet state."""
    app = FastAPI(title="BinFleet cloud_ingest", version="0.1.0")
    counters = IngestCounters()
    app.state.counters = counters
    hashes = tuple(h.lower() for h in cfg.token_sha256)

    def authorized(request: Request) -> bool:
        if not hashes:
            return cfg.open_ingest
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return False
        digest = hashlib.sha256(header[7:].encode()).hexdigest()
        return any(hmac.compare_digest(digest, h) for h in hashes)

    @app.post("/api/v1/ingest", summary="Take one batch of readings from a gateway",
              openapi_extra=INGEST_OPENAPI)
    async def ingest(request: Request) -> JSONResponse:
        """Validate, write to the series store and the fleet state, then answer."""
        if not authorized(request):
            counters.add("unauthorized")
            return _error(401, "authorization", "a known gateway bearer token is required")
        raw = await request.body()
        if request.headers.get("content-encoding", "").lower() == "gzip":
            try:
                raw = _decompress(raw, cfg.max_body_bytes)
            except OverflowError:
                return _error(413, "body", f"larger than {cfg.max_body_bytes} bytes unpacked")
            except (zlib.error, gzip.BadGzipFile) as e:
                return _error(400, "body", f"bad gzip: {e}")
        elif len(raw) > cfg.max_body_bytes:
            return _error(413, "body", f"larger than {cfg.max_body_bytes} bytes")
        now_ms = int(time.time() * 1000)
        try:
            b = batch.decode(raw, now_ms)
        except ProtocolError as e:
            counters.add("rejected_batches")
            m = _INDEX_RE.match(e.field)
            log.warning("rejected batch: %s", e)
            return _error(400, e.field, e.rule, index=int(m.group(1)) if m else None)
        try:
            tags = await run_in_threadpool(state.series_tags)
            # The two stores are independent: write both at once, answer when both hold
            # the batch. If only one did, the gateway's retry is a no-op there.
            await asyncio.gather(
                run_in_threadpool(writer.write, b.readings, tags),
                run_in_threadpool(state.apply, b.readings, now_ms, b.events, b.batch_id))
        except StoreUnavailable as e:
            counters.add("store_unavailable")
            log.error("%s; answering 503", e)
            return JSONResponse(
                {"error": {"field": "store", "rule": str(e)}}, status_code=503,
                headers={"Retry-After": str(cfg.retry_after_s)})
        counters.add("batches")
        counters.add("readings", len(b.readings))
        counters.add("events", len(b.events))
        return JSONResponse({"accepted": len(b.readings), "events": len(b.events),
                             "batch_id": b.batch_id})

    app.include_router(read_routes(state))
    broadcaster = Broadcaster()
    state.listeners.append(broadcaster.publish)
    app.state.broadcaster = broadcaster

    @app.get("/api/v1/stream", summary="Live stream of state changes (server-sent events)",
             response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "events `reading` and `status` "
                                             "(docs/cloud_ingest.md#live-stream)"}})
    async def stream() -> StreamingResponse:
        """Each committed change as it happens; a comment line every 15 s keeps it open."""
        return StreamingResponse(broadcaster.events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @app.get("/api/v1/stats", summary="What the ingest endpoint handled")
    async def stats() -> dict[str, int]:
        """Return the ingest counters."""
        return dict(counters.values)

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        """Return ok while the process serves requests."""
        return {"status": "ok", "store": writer.description}

    return app
