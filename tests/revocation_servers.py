"""A certificate authority made with cryptography whose certificates name a CRL and an OCSP responder on a
loopback HTTP server it also runs: the CRL (DER, signed by the CA) lists what the test revokes, and the
responder answers each OCSP request good, revoked or unknown, signed by the CA. Every fetch is counted."""

from __future__ import annotations

import datetime
from collections import Counter
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from support import LoopThread

NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


class Authority:
    """`with Authority(folder) as ca:` -> ca.url (http://127.0.0.1:PORT), ca.issue(...), ca.revoked, ca.ocsp_status."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("notifycfg test revocation CA"))
            .issuer_name(_name("notifycfg test revocation CA"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - DAY)
            .not_valid_after(NOW + 120 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.revoked: set[int] = set()
        self.issued: dict[int, x509.Certificate] = {}
        self.ocsp_status: dict[int, ocsp.OCSPCertStatus] = {}
        self.crl_next_update = NOW + DAY
        self.crl_oversized = False  # serve 11 MiB instead of the CRL
        self.crl_garbage = False  # serve a web page instead
        self.crl_encoded: tuple[bytes, str] | None = None  # serve this body with this Content-Encoding instead
        self.ocsp_window = (NOW - DAY, NOW + DAY)  # the answers' thisUpdate and nextUpdate
        self.fetches: Counter[str] = Counter()
        self.url = ""

    @property
    def cafile(self) -> str:
        path = self.folder / "revocation-ca.pem"
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return str(path)

    def issue(self, name: str, *, crl: str | None = None, ocsp_url: str | None = None) -> dict[str, str]:
        """A leaf for `name` naming these URLs; {"certfile", "keyfile"} for the harness."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - DAY)
            .not_valid_after(NOW + 90 * DAY)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        )
        if crl:
            point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl)], None, None, None)
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        if ocsp_url:
            access = x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))
            builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        stem = self.folder / f"{name}-{cert.serial_number:x}"
        certfile, keyfile = stem.with_suffix(".pem"), stem.with_suffix(".key")
        certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.last_serial = cert.serial_number
        self.issued[cert.serial_number] = cert
        return {"certfile": str(certfile), "keyfile": str(keyfile)}

    async def _crl(self, request: web.Request) -> web.Response:
        self.fetches["crl"] += 1
        if self.crl_encoded is not None:
            body, coding = self.crl_encoded
            return web.Response(body=body, headers={"Content-Encoding": coding})
        return web.Response(body=self.crl_body())

    def crl_body(self) -> bytes:
        """What the CRL URL serves now (DER), or what the test asked for instead."""
        if self.crl_oversized:
            return b"0" * (11 * 1024 * 1024)
        if self.crl_garbage:
            return b"<html>Moved to a captive portal</html>"
        builder = x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
        builder = builder.last_update(NOW - DAY).next_update(self.crl_next_update)
        for serial in sorted(self.revoked):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - DAY).build()
            )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    async def _ocsp(self, request: web.Request) -> web.Response:
        self.fetches["ocsp"] += 1
        return web.Response(body=self.ocsp_body(await request.read()), content_type="application/ocsp-response")

    def ocsp_body(self, request: bytes) -> bytes:
        """The responder's signed answer (DER) to an OCSP request."""
        asked = ocsp.load_der_ocsp_request(request)
        status = self.ocsp_status.get(asked.serial_number, ocsp.OCSPCertStatus.GOOD)
        revoked_at = NOW - DAY if status == ocsp.OCSPCertStatus.REVOKED else None
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(  # the responder knows what it issued
                self.issued[asked.serial_number], self.cert, hashes.SHA1(), status, *self.ocsp_window, revoked_at, None
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.cert)
        )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    async def _start(self) -> int:
        app = web.Application()
        app.router.add_get("/ca.crl", self._crl)
        app.router.add_post("/ocsp", self._ocsp)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return int(self._runner.addresses[0][1])

    def __enter__(self) -> Authority:
        self._loop = LoopThread()  # the HTTP server only when entered: crl_body() and ocsp_body() need none
        self._loop.__enter__()
        self.url = f"http://127.0.0.1:{self._loop.run(self._start())}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run(self._runner.cleanup())
        self._loop.__exit__()
