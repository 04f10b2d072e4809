"""A fault-injecting TCP proxy on loopback, for cutting the gateway's uplink in tests.

    proxy = FaultProxy(target_port); proxy.start()
    proxy.mode = "drop_response"   # pass | slow | cut_request | drop_response | refuse

Modes act on connections as their bytes flow, so a mode change hits batches mid-flight:
- slow: every chunk waits SLOW_CHUNK_S in both directions
- cut_request: close both sides after the first CUT_AFTER_BYTES of a request
- drop_response: let the request through, then reset the client connection when the
  answer comes back (the far side has acted; the sender never learns it)
- refuse: close every new connection at once
"""

import contextlib
import socket
import struct
import threading
import time

from binfleet.ports import free_port

SLOW_CHUNK_S = 0.2
CUT_AFTER_BYTES = 512
CHUNK = 4096


class FaultProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target_port, misbehaving on demand."""

    def __init__(self, target_port: int) -> None:
        """Bind a free port; start() accepts connections."""
        self.target_port = target_port
        self.port = free_port()
        self.mode = "pass"
        self.faults = 0
        # Faults injected per mode, so a test can wait until a mode has really bitten.
        self.faults_by_mode: dict[str, int] = {}
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._stop = threading.Event()

    def start(self) -> None:
        """Accept connections in a background thread."""
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        """Stop accepting."""
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "refuse":
                self._fault("refuse")
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _fault(self, mode: str) -> None:
        self.faults += 1
        self.faults_by_mode[mode] = self.faults_by_mode.get(mode, 0) + 1

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        # SO_LINGER 0: close sends RST instead of FIN.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(CHUNK)
                if not data:
                    break
                mode = self.mode
                if mode == "slow":
                    self._fault("slow")
                    time.sleep(SLOW_CHUNK_S)
                if upstream and mode == "cut_request" and sent + len(data) > CUT_AFTER_BYTES:
                    dst.sendall(data[: max(0, CUT_AFTER_BYTES - sent)])
                    self._fault("cut_request")
                    self._reset(src)
                    self._reset(dst)
                    return
                if not upstream and mode == "drop_response":
                    self._fault("drop_response")
                    self._reset(dst)
                    self._reset(src)
                    return
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()
