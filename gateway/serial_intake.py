"""Serial intake (pyserial) for bins wired over UART/RS-485, through the same committer.

One thread per port reads frame lines (protocol.serial_frame), hands the payload to
the committer, and answers each frame once it is committed: ACK <bin> <seq>, or
REJ <field> when it was dead-lettered. A damaged frame gets NAK so the bin sends it
again; it is counted, not dead-lettered (line noise is no one's reading).
"""

import logging
import threading

import serial

from gateway.buffer import Accepted, Event, Rejected
from gateway.committer import SERIAL_PREFIX, Committer, Inbound
from gateway.config import GatewayConfig
from gateway.stats import Counters
from protocol import serial_frame
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)

# readline() returns after this long with what it has, so stop() is noticed.
READ_TIMEOUT_S = 0.5
# A port that fails to open or breaks is retried after this pause.
REOPEN_S = 2.0


class SerialPort:
    """One port: reader thread, and the replies the committer triggers."""

    def __init__(self, url: str, baud: int, counters: Counters, committer: Committer) -> None:
        """Prepare; start() opens the port."""
        self.url = url
        self._baud = baud
        self._counters = counters
        self._committer = committer
        self._stop = threading.Event()
        self._port: serial.SerialBase | None = None
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"gw-serial-{url}", daemon=True)

    def start(self) -> None:
        """Read frames in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the port."""
        self._stop.set()
        self._thread.join(timeout=5)

    def ack(self, token: object, result: Accepted | Event | Rejected) -> bool:
        """Answer a committed frame."""
        if isinstance(result, Accepted):
            self._reply(f"ACK {result.bin_id} {result.seq}\n".encode())
        elif isinstance(result, Rejected):
            self._reply(f"REJ {result.field}\n".encode())
        return True
        return True

    def _reply(self, line: bytes) -> None:
        with self._write_lock:
            port = self._port
            if port is None:
                return  # the bin resends after the port comes back
            try:
                port.write(line)
            except serial.SerialException as e:
                log.warning("serial %s: reply failed: %s", self.url, e)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._port = serial.serial_for_url(self.url, baudrate=self._baud,
                                                   timeout=READ_TIMEOUT_S)
            except (serial.SerialException, OSError) as e:
                log.error("serial %s: cannot open: %s", self.url, e)
                self._stop.wait(REOPEN_S)
                continue
            log.info("serial %s: reading frames", self.url)
            try:
                self._read_frames(self._port)
            except (serial.SerialException, OSError) as e:
                log.error("serial %s: %s; reopening", self.url, e)
            finally:
                with self._write_lock:
                    self._port.close()
                    self._port = None
            self._stop.wait(REOPEN_S)

    def _read_frames(self, port: serial.SerialBase) -> None:
        topic = SERIAL_PREFIX + self.url
        while not self._stop.is_set():
            line = port.readline(serial_frame.MAX_LINE + 2)
            if not line:
                continue
            if not line.endswith(b"\n"):
                # Partial line at timeout or an over-long line: read the rest on.
                line += port.readline(serial_frame.MAX_LINE + 2)
                if not line.endswith(b"\n"):
                    self._counters.add("serial_bad_frames")
                    self._reply(b"NAK frame too long or cut\n")
                    continue
            try:
                payload = serial_frame.decode(line)
            except ProtocolError as e:
                self._counters.add("serial_bad_frames")
                log.warning("serial %s: %s", self.url, e)
                self._reply(f"NAK {e.rule}\n".encode())
                continue
            self._committer.submit(Inbound(topic, payload, self, None))


class SerialIntake:
    """All configured serial ports."""

    def __init__(self, cfg: GatewayConfig, counters: Counters, committer: Committer) -> None:
        """One SerialPort per configured port."""
        self.ports = [SerialPort(url, cfg.serial_baud, counters, committer)
                      for url in cfg.serial_ports]

    def start(self) -> None:
        """Start every port."""
        for p in self.ports:
            p.start()

    def stop(self) -> None:
        """Stop every port."""
        for p in self.ports:
            p.stop()
