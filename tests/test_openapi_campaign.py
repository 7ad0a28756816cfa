"""A Schemathesis campaign against a live harness: no 5xx, and no answer that breaks the OpenAPI description."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from served import SMTP_HARNESS, Served

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
EXAMPLES = 10  # per operation: a bounded campaign, in every test run


@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    """A harness in its own process, as CI runs it."""
    with Served([*SMTP_HARNESS, "--fault", "rcpt=550 5.1.1 No such user,rcpt=^bounce@"]) as served:
        fields = served.ready()
        host, port = fields["smtp"].rsplit(":", 1)
        for i in range(3):
            with smtplib.SMTP(host, int(port), timeout=10) as smtp:
                smtp.sendmail("a@example.com", [f"user{i}@example.com"], f"Subject: s{i}\r\n\r\nbody {i}\r\n".encode())
        yield f"http://{fields['http']}"
        served.stop()


def _operations(url: str) -> list:  # type: ignore[type-arg]
    schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json")
    # The live stream never ends, and the page is HTML: both have their own tests.
    return [op.ok() for op in schema.get_all_operations() if op.ok().path not in ("/api/events", "/")]  # type: ignore[union-attr]


def test_every_operation_conforms_to_the_description(live):
    operations = _operations(live)
    assert len(operations) >= 28  # the native API, Mailpit's v1 subset, /metrics, /readyz and /livez
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def campaign(case):  # type: ignore[no-untyped-def]
            # Every check but "schema-valid data accepted": fault rules carry a grammar (reply codes, regular
            # expressions) no JSON Schema expresses; what breaks it is answered 400 with a reason, as described.
            if isinstance(case.query, dict) and "wait" in case.query:  # a wait may last 60 s, as described:
                case.query["wait"] = min(float(case.query["wait"]), 0.2)  # kept short here (its own test waits)
            case.call_and_validate(timeout=10, excluded_checks=[positive_data_acceptance])

        campaign()
