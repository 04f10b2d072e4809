"""Run cloud_ingest: build the writer the config asks for, serve the app with uvicorn."""

import logging
import threading

import uvicorn

from cloud_ingest import db
from cloud_ingest.app import create_app
from cloud_ingest.config import IngestConfig
from cloud_ingest.series import InfluxSeriesWriter, SeriesWriter, SqliteSeriesWriter
from cloud_ingest.state import FleetState

log = logging.getLogger(__name__)


def make_writer(cfg: IngestConfig) -> SeriesWriter:
    """Return the InfluxDB writer if influx_url is set, else the embedded SQLite one."""
    if cfg.influx_url:
        return InfluxSeriesWriter(cfg.influx_url, cfg.influx_token, cfg.influx_org,
                                  cfg.influx_bucket, cfg.influx_timeout_s)
    return SqliteSeriesWriter(cfg.series_path)


class IngestServer:
    """cloud_ingest in a background thread (for the demo and tests) or in the foreground."""

    def __init__(self, cfg: IngestConfig, writer: SeriesWriter | None = None) -> None:
        """Open the stores and build the app; nothing listens before start()."""
        self.cfg = cfg
        self.writer = writer or make_writer(cfg)
        self.state = FleetState(db.open_store(db.url_of(cfg.state_path, cfg.state_url)))
        self.app = create_app(cfg, self.writer, self.state)
        self._server = uvicorn.Server(uvicorn.Config(
            self.app, host=cfg.host, port=cfg.port, log_level="warning", access_log=False))
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Serve in the foreground until SIGINT/SIGTERM."""
        log.info("cloud_ingest on http://%s:%d, series: %s", self.cfg.host, self.cfg.port,
                 self.writer.description)
        self._server.run()
        self.close()

    def start(self) -> None:
        """Serve in a background thread; return once listening."""
        # uvicorn installs signal handlers only on the main thread, so none here.
        self._thread = threading.Thread(target=self._server.run, name="ingest", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"cloud_ingest failed to start on port {self.cfg.port}")
            threading.Event().wait(0.02)

    def stop(self) -> None:
        """Stop serving and close the stores."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.close()

    def close(self) -> None:
        """Close the stores."""
        self.writer.close()
        self.state.close()
