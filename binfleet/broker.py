"""An in-process MQTT broker (amqtt) for `binfleet demo` on a machine with no broker installed.

Not for production: the demo only. It runs in its own thread and asyncio loop.
"""

import asyncio
import logging
import threading
from typing import Any

from amqtt.broker import Broker


class EmbeddedBroker:
    """amqtt on 127.0.0.1:port, started and stopped from synchronous code."""

    def __init__(self, port: int) -> None:
        """Prepare a broker listening on loopback only."""
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._broker: Any = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="broker",
                                        daemon=True)
        # amqtt logs every connection at INFO; the demo's own output says what matters.
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        logging.getLogger("transitions").setLevel(logging.WARNING)

    def start(self) -> None:
        """Start listening; return once the broker accepts connections."""
        self._thread.start()
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                        {"allow_anonymous": True}},
        }

        async def boot() -> None:
            self._broker = Broker(config)
            await self._broker.start()

        asyncio.run_coroutine_threadsafe(boot(), self._loop).result(timeout=30)

    def stop(self) -> None:
        """Shut the broker down and end its thread."""
        if self._broker is not None:
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(
                timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
