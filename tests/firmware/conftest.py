"""Fixtures shared by the firmware tests that talk to a real Mosquitto."""

from collections.abc import Iterator

import pytest

from tests.firmware.listener import Listener
from tests.servers import Mosquitto


@pytest.fixture
def listener(mosquitto: Mosquitto) -> Iterator[Listener]:
    """Subscribed before the device publishes anything."""
    lst = Listener(mosquitto.port)
    assert lst.subscribed.wait(10)
    yield lst
    lst.close()
