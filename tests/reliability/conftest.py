"""Fixtures of the reliability tests, and a summary of how many fuzz cases ran."""

import pytest

from fanremix.local_service import LocalService
from tests.service.conftest import UNLIMITED

from .fuzzing import CASES


def pytest_terminal_summary(terminalreporter) -> None:
    if CASES:
        terminalreporter.section("fuzz cases run")
        for target, count in sorted(CASES.items()):
            terminalreporter.write_line(f"{target}: {count}")
        terminalreporter.write_line(f"total: {sum(CASES.values())}")


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory):
    """A real rights service on loopback for this suite, with rate limits out of the way."""
    with LocalService.start(tmp_path_factory.mktemp("reliability-service"), service_args=UNLIMITED) as running:
        yield running
