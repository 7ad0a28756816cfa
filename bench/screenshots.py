"""docs/inbox.png and docs/message.png: the inbox with realistic mail, in headless Chromium.

python bench/screenshots.py
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from support.browser import chrome

from smtp_harness import Harness

ROOT = Path(__file__).resolve().parent.parent

MAILS = [
    (
        "platform-mailer",
        "noreply@example.com",
        "ops@example.com",
        "[ERROR] Job Nightly invoices faulted",
        "<h2 style='color:#b00020'>Job faulted</h2><p><b>Nightly invoices</b> (InvoiceBot) failed: Timeout reaching ERP.</p>",
    ),
    (
        "platform-mailer",
        "noreply@example.com",
        "licensing@example.com",
        "License Orchestrator expires in 14 days",
        "<p>The license <b>Orchestrator</b> expires in 14 days. Renew it to avoid interruption.</p>",
    ),
    (
        "INITECH\\svc-notify",
        "it-alerts@initech.example.net",
        "batch-team@initech.example.net",
        "[WARN] Robot R-17 disconnected",
        "<p>Robot <b>R-17</b> lost its connection at 03:12 UTC.</p>",
    ),
    (
        "platform-mailer",
        "notifications@globex.example.org",
        "it-news@globex.example.org",
        "Release 24.10 is out",
        "<h1>Release 24.10</h1><p>What's new: faster queues, new triggers.</p><img src='https://tracker.example/pixel.png'>",
    ),
    (
        "platform-mailer",
        "noreply@example.com",
        "jane@acme.example",
        "Reset your password",
        "<p>Someone asked to reset the password of jane@acme.example.</p><p><a href='https://portal.example/reset/abc'>Reset it</a></p>",
    ),
]


def main() -> None:
    users = {"platform-mailer": "pw", "INITECH\\svc-notify": "pw"}
    with Harness(tls="starttls", users=users) as h:
        context = ssl.create_default_context(cafile=str(h.ca_path))
        for login, sender, rcpt, subject, html in MAILS:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = sender, rcpt, subject
            message.set_content("(text part)")
            message.add_alternative(html, subtype="html")
            with smtplib.SMTP(h.host, h.port, timeout=10) as smtp:
                smtp.starttls(context=context)
                smtp.login(login, "pw")
                smtp.send_message(message)
        for driver in chrome("--window-size=1400,800"):
            driver.get(h.http_url + "/")
            driver.implicitly_wait(3)
            driver.find_element("css selector", "#messages tbody tr")
            driver.save_screenshot(str(ROOT / "docs" / "inbox.png"))
            driver.get(h.http_url + "/#msg=4")
            driver.find_element("id", "viewer-subject")
            import time

            time.sleep(0.5)
            driver.save_screenshot(str(ROOT / "docs" / "message.png"))
    print("wrote docs/inbox.png and docs/message.png")


if __name__ == "__main__":
    main()
