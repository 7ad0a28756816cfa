"""The harness under load and abuse: nothing acknowledged is lost or doubled."""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading

from smtp_harness import Harness


def test_twenty_clients_starttls_auth_every_250_captured_exactly_once():
    clients, per_client = 20, 55  # 1,100 messages
    acknowledged: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    with Harness(tls="starttls", users={f"u{i}": f"p{i}" for i in range(clients)}, require_tls=True, auth_required=True) as h:
        context = ssl.create_default_context(cafile=str(h.ca_path))

        def client(i: int) -> None:
            try:
                with smtplib.SMTP(h.host, h.port, timeout=30) as smtp:
                    smtp.starttls(context=context)
                    smtp.login(f"u{i}", f"p{i}")
                    for n in range(per_client):
                        ident = f"c{i}-m{n}"
                        smtp.sendmail("load@example.com", [f"r{i}@example.com"], f"Subject: {ident}\r\n\r\nx\r\n".encode())
                        with lock:
                            acknowledged.append(ident)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        captured = [m.subject for m in h.messages()]
        assert all(m.tls for m in h.messages()) and {m.auth_user for m in h.messages()} == {f"u{i}" for i in range(clients)}
    assert not errors, errors[:3]
    assert len(acknowledged) == clients * per_client
    assert sorted(captured) == sorted(acknowledged)  # each exactly once


def test_hundreds_of_idle_connections_do_not_block_new_clients():
    with Harness() as h:
        idle = []
        try:
            for _ in range(300):
                s = socket.create_connection((h.host, h.port), timeout=10)
                idle.append(s)
            with smtplib.SMTP(h.host, h.port, timeout=10) as smtp:
                smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: through\r\n\r\nx\r\n")
            assert h.wait_for(timeout=5)[0].subject == "through"
        finally:
            for s in idle:
                s.close()


def test_disconnect_mid_data_stores_nothing():
    with Harness() as h:
        with socket.create_connection((h.host, h.port), timeout=10) as raw:
            stream = raw.makefile("rwb")
            stream.readline()
            for line in (b"EHLO x\r\n", b"MAIL FROM:<a@example.com>\r\n", b"RCPT TO:<b@example.com>\r\n", b"DATA\r\n"):
                stream.write(line)
                stream.flush()
                reply = stream.readline()
                while reply[3:4] == b"-":
                    reply = stream.readline()
            stream.write(b"Subject: half\r\n\r\nonly part of the bo")
            stream.flush()
        with smtplib.SMTP(h.host, h.port, timeout=10) as smtp:
            smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: whole\r\n\r\nx\r\n")
        assert [m.subject for m in h.wait_for(timeout=5)] == ["whole"]


def test_oversized_message_and_line_then_still_serving():
    with Harness(size_limit=10_000) as h:
        with smtplib.SMTP(h.host, h.port, timeout=10) as smtp:
            smtp.ehlo()
            code, _ = smtp.docmd("MAIL FROM:<a@example.com> SIZE=999999")
            assert code == 552
        with socket.create_connection((h.host, h.port), timeout=10) as raw:
            stream = raw.makefile("rwb")
            stream.readline()
            stream.write(b"EHLO " + b"x" * 100_000 + b"\r\n")
            stream.flush()
            assert stream.readline()[:1] == b"5"
        with smtplib.SMTP(h.host, h.port, timeout=10) as smtp:
            smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: fine\r\n\r\nx\r\n")
        assert len(h.messages()) == 1
