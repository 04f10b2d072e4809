"""Fixtures for the real servers every integration test uses (see tests/servers.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Mosquitto, VictoriaMetrics


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
