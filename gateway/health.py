"""Health and counters over HTTP: GET /healthz (200 once subscribed, else 503), GET /stats
(JSON), GET /metrics (Prometheus text format).

Served by the standard library in a background thread; the gateway's hot path
never waits on it.
"""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HealthServer:
    """A tiny HTTP server reporting what `report()` returns."""

    def __init__(self, host: str, port: int, report: Callable[[], dict[str, Any]],
                 metrics: Callable[[], bytes]) -> None:
        """Bind now (so a taken port fails at start), serve after start()."""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._send(200, metrics(), "text/plain; version=0.0.4; charset=utf-8")
                    return
                body = report()
                if self.path == "/healthz":
                    status = 200 if body.get("subscribed") else 503
                elif self.path == "/stats":
                    status = 200
                else:
                    status, body = 404, {"error": "unknown path"}
                self._send(status, json.dumps(body).encode(), "application/json")

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="gw-health",
                                        daemon=True)

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
