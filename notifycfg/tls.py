"""The one way notifycfg trusts a server it talks to: SMTP (send-test, flows, doctor) and the platform API.

System CAs, or --cafile for a private CA; the host name checked; TLS 1.2 at
least. There is no switch that turns verification off.
"""

from __future__ import annotations

import ssl


def client_context(cafile: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
