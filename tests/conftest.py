"""Fixtures for the real servers every integration test uses (see tests/servers.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Mosquitto, VictoriaMetrics
from tests.services import RUNNING


@pytest.fixture(autouse=True)
def _no_leftover_services() -> Iterator[None]:
    """Kill any BinFleet process a test started and did not stop (e.g. it failed early)."""
    yield
    while RUNNING:
        RUNNING.pop().kill()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh Mosquitto with the project's config on a free port."""
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """A fresh VictoriaMetrics on a free port with an empty data dir."""
    vm = VictoriaMetrics(tmp_path)
    vm.start()
    yield vm
    vm.stop()
