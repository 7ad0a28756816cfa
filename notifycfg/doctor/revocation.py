"""The `revocation` endpoint check: can the platform check the relay certificate's revocation?

The platform's mail library checks the relay certificate's CRL or OCSP responder
over plain HTTP during the TLS handshake, and fails the handshake when it cannot
reach them: that is why the platform's page asks for port 80 as well as 587. So
every `http://` CRL distribution point and OCSP responder of the verified chain's
leaf (and intermediates, where the runtime exposes the verified chain: Python
3.13's `get_verified_chain`) must answer within --timeout; a CRL must verify
against its issuer and not list the certificate; an OCSP answer must verify and
say `good`. One fetch per CRL URL per run, one OCSP request per URL and
certificate; a CRL is read to at most 10 MiB.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from notifycfg.doctor.model import ORDER, Check, Status

MAX_CRL = 10 * 1024 * 1024
MAX_OCSP = 1024 * 1024
CONSEQUENCE = "the platform's secure connection fails when it cannot check revocation (its page asks for port 80 open)"
Outcome = tuple[Status, str]
Key = str | tuple[str, int]  # a CRL URL, or (OCSP URL, serial)


class Unreachable(Exception):
    """A revocation URL did not answer in time, or at all: the message names HOST:PORT."""


def _urls(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """(CRL distribution points, OCSP responders), plain http only: what the platform fetches."""
    crls: list[str] = []
    responders: list[str] = []
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        crls = [n.value for p in points for n in p.full_name or [] if isinstance(n, x509.UniformResourceIdentifier)]
    except x509.ExtensionNotFound:
        pass
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        responders = [d.access_location.value for d in access if d.access_method == AuthorityInformationAccessOID.OCSP]
    except x509.ExtensionNotFound:
        pass
    return [u for u in crls if u.lower().startswith("http://")], [u for u in responders if u.lower().startswith("http://")]


def trust_store(cafile: str | None) -> list[x509.Certificate]:
    """The CAs that can be issuers: --cafile, else the system's bundle (the file OpenSSL uses by default)."""
    paths = ssl.get_default_verify_paths()
    path = cafile or paths.cafile or paths.openssl_cafile
    try:
        with warnings.catch_warnings():  # a system bundle may hold old CAs cryptography warns about: not ours to fix
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return x509.load_pem_x509_certificates(Path(path).read_bytes()) if path else []
    except (OSError, ValueError):
        return []


def _issuer(cert: x509.Certificate, candidates: list[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject == cert.issuer:
            try:
                cert.verify_directly_issued_by(candidate)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return candidate
    return None


def _verify(signer: x509.Certificate, signature: bytes, data: bytes, algorithm: hashes.HashAlgorithm | None) -> bool:
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


@dataclass
class Revocations:
    """One run's fetches, shared by every endpoint: `async with Revocations(timeout, cafile) as r: await r.check(chain)`."""

    timeout: float
    cafile: str | None = None
    _crls: dict[str, asyncio.Task[bytes]] = field(default_factory=dict)
    _ocsp: dict[tuple[str, int], asyncio.Task[bytes]] = field(default_factory=dict)

    async def __aenter__(self) -> Revocations:
        self._http = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False)
        self._store: list[x509.Certificate] | None = None  # read when a certificate first names a revocation URL
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def check(self, chain: list[bytes]) -> Check:
        try:
            return await self._check(chain)
        except (ValueError, TypeError) as exc:  # a certificate, CRL or OCSP answer cryptography cannot read as such
            return Check("revocation", "error", f"cannot read what the server or its revocation URLs sent: {exc}")

    async def _check(self, chain: list[bytes]) -> Check:
        certs = [x509.load_der_x509_certificate(der) for der in chain]
        outcomes: list[Outcome] = []
        for i, cert in enumerate(certs):
            if i and cert.issuer == cert.subject:
                break  # the root: trusted as it is, nothing above it to ask
            if not any(_urls(cert)):
                continue
            if self._store is None:
                self._store = trust_store(self.cafile)
            outcomes += await self._one(cert, _issuer(cert, certs[i + 1 :] + self._store))
        if not outcomes:
            return Check("revocation", "ok", "the certificate names no revocation URL: nothing the platform must reach")
        status = max((s for s, _ in outcomes), key=ORDER.__getitem__)
        return Check("revocation", status, "; ".join(m for _, m in outcomes))

    async def _one(self, cert: x509.Certificate, issuer: x509.Certificate | None) -> list[Outcome]:
        crls, responders = _urls(cert)
        who = cert.subject.rfc4514_string() or f"serial {cert.serial_number:x}"
        outcomes: list[Outcome] = []
        if (crls or responders) and issuer is None:
            outcomes.append(("warning", f"the issuer of {who} is not among --cafile or the system's CAs: answers not verified"))
        for url in crls:
            outcomes.append(await self._guarded(partial(self._crl, url, cert, issuer)))
        for url in responders:
            outcomes.append(await self._guarded(partial(self._ocsp_status, url, cert, issuer)))
        return outcomes

    async def _guarded(self, run: Callable[[], Awaitable[Outcome]]) -> Outcome:
        try:
            return await run()
        except Unreachable as exc:
            return "error", f"{exc}: {CONSEQUENCE}"

    async def _fetch(self, url: str, limit: int, body: bytes | None = None) -> bytes:
        u = httpx.URL(url)
        where = f"{u.host}:{u.port or 80}"
        try:
            async with asyncio.timeout(self.timeout):
                return await self._read(url, limit, body, where)
        except TimeoutError:
            raise Unreachable(f"{url} ({where}) did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise Unreachable(f"{url} ({where}) cannot be reached: {type(exc).__name__}") from None

    async def _read(self, url: str, limit: int, body: bytes | None, where: str) -> bytes:
        headers = {"Content-Type": "application/ocsp-request"} if body is not None else {}
        request = self._http.build_request("POST" if body is not None else "GET", url, content=body, headers=headers)
        response = await self._http.send(request, stream=True)
        try:
            if response.status_code != 200:
                raise Unreachable(f"{url} ({where}) answered {response.status_code}")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    raise Unreachable(f"{url} ({where}) sent more than {limit // 2**20} MiB")
            return bytes(data)
        finally:
            await response.aclose()

    def _once(self, cache: dict[Key, asyncio.Task[bytes]], key: Key, fetch: Callable[[], Awaitable[bytes]]) -> asyncio.Task[bytes]:
        if key not in cache:
            cache[key] = asyncio.ensure_future(fetch())
        return cache[key]

    async def _crl(self, url: str, cert: x509.Certificate, issuer: x509.Certificate | None) -> Outcome:
        data = await self._once(self._crls, url, lambda: self._fetch(url, MAX_CRL))  # type: ignore[arg-type]
        try:
            crl = x509.load_der_x509_crl(data) if not data.startswith(b"-----") else x509.load_pem_x509_crl(data)
        except ValueError:
            return "error", f"{url} did not send a CRL"
        if issuer is not None and not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            return "error", f"the CRL at {url} does not verify against its issuer"
        revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if revoked is not None:
            since = f"{revoked.revocation_date_utc:%Y-%m-%d}"
            return "error", f"the certificate (serial {cert.serial_number:x}) is revoked in the CRL at {url}, since {since}"
        if crl.next_update_utc is not None and crl.next_update_utc < datetime.datetime.now(datetime.UTC):
            return "warning", f"the CRL at {url} is past its nextUpdate ({crl.next_update_utc:%Y-%m-%d %H:%M} UTC)"
        return "ok", f"CRL {url}: not revoked"

    async def _ocsp_status(self, url: str, cert: x509.Certificate, issuer: x509.Certificate | None) -> Outcome:
        if issuer is None:  # a request names the issuer: without it, only whether the responder answers
            await self._reachable(url)
            return "ok", f"OCSP {url} reachable"
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()  # noqa: S303 - OCSP's CertID uses SHA-1
        der = request.public_bytes(serialization.Encoding.DER)
        data = await self._once(self._ocsp, (url, cert.serial_number), lambda: self._fetch(url, MAX_OCSP, der))  # type: ignore[arg-type]
        try:
            answer = ocsp.load_der_ocsp_response(data)
        except ValueError:
            return "error", f"{url} did not send an OCSP response"
        if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return "error", f"the OCSP responder at {url} answered {answer.response_status.name.lower()}"
        return _judge_ocsp(url, answer, cert, issuer)

    async def _reachable(self, url: str) -> None:
        u = httpx.URL(url)
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(u.host, u.port or 80), self.timeout)
        except (OSError, TimeoutError):
            raise Unreachable(f"{url} ({u.host}:{u.port or 80}) cannot be reached") from None
        writer.close()


def _judge_ocsp(url: str, answer: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate) -> Outcome:
    signer = _responder(answer, issuer)
    if signer is None or not _verify(signer, answer.signature, answer.tbs_response_bytes, answer.signature_hash_algorithm):
        return "error", f"the OCSP answer from {url} does not verify against the issuer"
    if answer.serial_number != cert.serial_number:
        return "error", f"the OCSP answer from {url} is about another certificate"
    status: ocsp.OCSPCertStatus = answer.certificate_status
    if status == ocsp.OCSPCertStatus.REVOKED:
        when = answer.revocation_time_utc
        return "error", f"the certificate (serial {cert.serial_number:x}) is revoked, says {url}" + (
            f", since {when:%Y-%m-%d}" if when else ""
        )
    if status == ocsp.OCSPCertStatus.UNKNOWN:
        return "warning", f"the OCSP responder at {url} does not know the certificate (unknown)"
    return "ok", f"OCSP {url}: good"


def _responder(answer: ocsp.OCSPResponse, issuer: x509.Certificate) -> x509.Certificate | None:
    """The issuer itself, or a delegated responder the issuer signed for OCSP signing (RFC 6960 4.2.2.2)."""
    if not answer.certificates:
        return issuer
    for candidate in answer.certificates:
        if candidate == issuer:
            return issuer
        try:
            usage = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            candidate.verify_directly_issued_by(issuer)
        except (x509.ExtensionNotFound, ValueError, TypeError, InvalidSignature):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in usage:
            return candidate
    return None
