"""The endpoint half of doctor: real SMTP servers probed without sending: dns, tcp, greeting, ehlo, tls, revocation, auth."""
