"""smtp_harness: a capturing SMTP server for tests (aiosmtpd, TLS, AUTH, faults).

Independent of notifycfg: any project can use it.

    from smtp_harness import Harness
    with Harness(tls="starttls", users={"alice": "secret"}) as h:
        ...  # send to h.host:h.port, trust h.ca_path
        h.wait_for(rcpt="bob@example.com", timeout=5)
"""

from smtp_harness.config import HarnessConfig
from smtp_harness.faults import Fault, parse_fault
from smtp_harness.harness import AsyncHarness, Harness, HarnessPool
from smtp_harness.store import MessageStore
from smtp_harness.views import Message

__all__ = ["AsyncHarness", "Fault", "Harness", "HarnessConfig", "HarnessPool", "Message", "MessageStore", "parse_fault"]
