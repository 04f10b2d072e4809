"""Fixtures for the real servers every integration test uses (see tests/servers.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Mosquitto, VictoriaMetrics
from tests.services import RUNNING


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can tell a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _no_leftover_services(request: pytest.FixtureRequest) -> Iterator[None]:
    """Kill any BinFleet process a test started and did not stop (e.g. it failed early);
    when the test failed, show the end of each service's log in its report."""
    started = len(RUNNING)
    yield
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for svc in RUNNING[started:]:
            if svc.log.exists():
                tail = svc.log.read_text(errors="replace").splitlines()[-40:]
                print(f"--- last lines of {svc.log} ---", *tail, sep="\n")
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
