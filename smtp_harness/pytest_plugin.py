"""pytest plugin (entry point `pytest11`): the `smtp_harness` fixture.

    def test_signup(smtp_harness):
        send_mail(host=smtp_harness.host, port=smtp_harness.port)
        (msg,) = smtp_harness.wait_for(rcpt="new@example.com")

    @pytest.mark.smtp_harness(tls="starttls", users={"app": "pw"}, faults=["rcpt=550,rcpt=^bounce@"])
    def test_bounce(smtp_harness): ...

`smtp_harness_factory(**options)` starts more harnesses (each stopped after the test).
`smtp_harness_remote` reads a harness running elsewhere (`--smtp-harness-url` or SMTP_HARNESS_URL):
its `wait_for` is the harness's server-side wait, one request answered when the mail arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from smtp_harness.harness import Harness
    from smtp_harness.remote import RemoteHarness

HarnessFactory = Callable[..., "Harness"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--smtp-harness-url", default=None, help="a running harness's HTTP URL, for the smtp_harness_remote fixture")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "smtp_harness(**options): options for the smtp_harness fixture (tls, users, faults, ...)")


@pytest.fixture
def smtp_harness_factory() -> Iterator[HarnessFactory]:
    """Start harnesses with `smtp_harness_factory(**options)` (HarnessConfig's options:
    tls, users, faults, ...); each one gets free ports and is stopped after the test."""
    from smtp_harness.config import HarnessConfig
    from smtp_harness.harness import Harness

    started: list[Harness] = []

    def start(**options: object) -> Harness:
        harness = Harness(HarnessConfig.from_options(options)).start()
        started.append(harness)
        return harness

    yield start
    for harness in started:
        harness.stop()


@pytest.fixture
def smtp_harness(request: pytest.FixtureRequest, smtp_harness_factory: HarnessFactory) -> Harness:
    """A running capturing SMTP server (smtp_harness.Harness) on free loopback ports.

    Options come from `@pytest.mark.smtp_harness(tls="starttls", users={"app": "pw"}, ...)`.
    Send to `.host`/`.port` (trust `.ca_path` with TLS), then `.wait_for(rcpt=...)`.
    """
    marker = request.node.get_closest_marker("smtp_harness")
    options = dict(marker.kwargs) if marker else {}
    return smtp_harness_factory(**options)


@pytest.fixture
def smtp_harness_remote(request: pytest.FixtureRequest) -> RemoteHarness:
    """The harness at `--smtp-harness-url` (or $SMTP_HARNESS_URL); the test is skipped when none is given."""
    import os

    from smtp_harness.remote import RemoteHarness

    url = request.config.getoption("--smtp-harness-url") or os.environ.get("SMTP_HARNESS_URL")
    if not url:
        pytest.skip("no running harness: give --smtp-harness-url or SMTP_HARNESS_URL")
    return RemoteHarness(str(url))
