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
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from notifycfg import http
from notifycfg.doctor.facts import Facts
from notifycfg.doctor.model import Check, Outcome, combined

MAX_CRL = 10 * 1024 * 1024
MAX_OCSP = 1024 * 1024
SKEW = datetime.timedelta(minutes=5)  # clocks differ: an answer this far outside its window is still taken
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _once(cache: dict[K, asyncio.Task[V]], key: K, make: Callable[[], Awaitable[V]]) -> asyncio.Task[V]:
    """The one task for `key` (a fetch, a parse, a signature check): made when first asked, shared by every endpoint after."""
    if key not in cache:
        cache[key] = asyncio.ensure_future(make())
    return cache[key]


def _where(url: str) -> dict[str, str]:
    """A revocation URL as its outcomes name it: the URL, and HOST:PORT (what a firewall rule needs)."""
    u = httpx.URL(url)
    return {"url": url, "where": f"{u.host}:{u.port or 80}"}


class Unreachable(Exception):
    """A revocation URL did not answer in time, or at all: the outcome names HOST:PORT."""

    def __init__(self, code: str, facts: Facts) -> None:
        super().__init__(code)
        self.outcome = Outcome("error", code, facts)


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


def trust_store(cafile: str | None) -> tuple[list[x509.Certificate], Outcome | None]:
    """The CAs that can be issuers: --cafile, else the system's bundle (the file OpenSSL uses by default);
    with a warning outcome when that file cannot be read as certificates."""
    paths = ssl.get_default_verify_paths()
    path = cafile or paths.cafile or paths.openssl_cafile
    if not path:
        return [], None
    try:
        with warnings.catch_warnings():  # a system bundle may hold old CAs cryptography warns about: not ours to fix
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return x509.load_pem_x509_certificates(Path(path).read_bytes()), None
    except (OSError, ValueError) as exc:
        return [], Outcome("warning", "revocation.store_unreadable", {"path": path, "error": type(exc).__name__})


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
    """One run's fetches, shared by every endpoint: `async with Revocations(timeout, cafile) as r: await r.check(chain)`.
    `transport` swaps the HTTP transport (tests: httpx.MockTransport)."""

    timeout: float
    cafile: str | None = None
    transport: http.TransportFor | None = None
    dns_servers: tuple[tuple[str, int], ...] = ()  # --dns-server: URL hosts are resolved there, and fetched by address
    _crls: dict[str, asyncio.Task[bytes]] = field(default_factory=dict)
    _parsed: dict[str, asyncio.Task[x509.CertificateRevocationList | None]] = field(default_factory=dict)
    _signed: dict[tuple[str, bytes], asyncio.Task[bool]] = field(default_factory=dict)
    _ocsp: dict[tuple[str, int], asyncio.Task[bytes]] = field(default_factory=dict)

    async def __aenter__(self) -> Revocations:
        self._http = http.client(transport=self.transport)
        self._store: tuple[list[x509.Certificate], Outcome | None] | None = None  # read when a certificate first names a URL
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def check(self, chain: list[bytes]) -> Check:
        try:
            certs = [x509.load_der_x509_certificate(der) for der in chain]
        except ValueError as exc:  # what the server sent is not a certificate cryptography can read
            return Check("revocation", "error", "revocation.unreadable", {"error": str(exc)})
        outcomes: list[Outcome] = []
        for i, cert in enumerate(certs):
            if i and cert.issuer == cert.subject:
                break  # the root: trusted as it is, nothing above it to ask
            if not any(_urls(cert)):
                continue
            if self._store is None:
                self._store = trust_store(self.cafile)
                outcomes += [self._store[1]] if self._store[1] else []
            outcomes += await self._one(cert, _issuer(cert, certs[i + 1 :] + self._store[0]))
        if not outcomes:
            return Check("revocation", "ok", "revocation.no_urls")
        return combined("revocation", outcomes)

    async def _one(self, cert: x509.Certificate, issuer: x509.Certificate | None) -> list[Outcome]:
        crls, responders = _urls(cert)
        outcomes: list[Outcome] = []
        if (crls or responders) and issuer is None:
            who = cert.subject.rfc4514_string() or f"serial {cert.serial_number:x}"
            outcomes.append(Outcome("warning", "revocation.issuer_unknown", {"subject": who}))
        for url in crls:
            outcomes.append(await self._guarded(partial(self._crl, url, cert, issuer)))
        for url in responders:
            outcomes.append(await self._guarded(partial(self._ocsp_status, url, cert, issuer)))
        return outcomes

    async def _guarded(self, run: Callable[[], Awaitable[Outcome]]) -> Outcome:
        try:
            return await run()
        except Unreachable as exc:
            return exc.outcome

    async def _address(self, url: str) -> tuple[str, dict[str, str]]:
        """With --dns-server, the URL with its host resolved there (and the Host header it had); else as it is."""
        u = httpx.URL(url)
        if not self.dns_servers:
            return url, {}
        from notifycfg.doctor.dns import DnsFailure, addresses_of

        try:
            address = (await addresses_of(u.host, self.dns_servers, self.timeout))[0]
        except DnsFailure as exc:
            raise Unreachable("revocation.unreachable", {**_where(url), "error": f"DNS {exc.said}"}) from None
        return str(u.copy_with(host=address)), {"Host": u.netloc.decode("ascii")}  # httpx brackets an IPv6 host

    async def _fetch(self, url: str, limit: int, body: bytes | None = None) -> bytes:
        where = _where(url)
        target, headers = await self._address(url)
        headers |= {"Content-Type": "application/ocsp-request"} if body is not None else {}
        request = self._http.build_request("POST" if body is not None else "GET", target, content=body, headers=headers)
        try:
            answer = await http.fetch(self._http, request, limit=limit, deadline=self.timeout)
        except http.Deadline:
            raise Unreachable("revocation.timeout", {**where, "timeout": self.timeout}) from None
        except http.BodyRefused as exc:
            code = "revocation.too_large" if exc.why == "too-large" else "revocation.bad_coding"
            raise Unreachable(code, {**where, "limit": limit, "detail": exc.detail}) from None
        except httpx.HTTPError as exc:
            raise Unreachable("revocation.unreachable", {**where, "error": type(exc).__name__}) from None
        if answer.status_code != 200:
            raise Unreachable("revocation.http_status", {**where, "status": answer.status_code})
        return answer.content

    async def _crl_of(self, url: str) -> x509.CertificateRevocationList | None:
        """The CRL at `url`, fetched and parsed once per run, off the event loop (a 10 MiB CRL takes a
        fifth of a second to parse: once, not once per endpoint); None when it is not a CRL."""
        data = await _once(self._crls, url, lambda: self._fetch(url, MAX_CRL))
        return await asyncio.to_thread(_load_crl, data)

    async def _crl(self, url: str, cert: x509.Certificate, issuer: x509.Certificate | None) -> Outcome:
        crl = await _once(self._parsed, url, lambda: self._crl_of(url))
        if crl is None:
            return Outcome("error", "revocation.not_crl", {"url": url})
        if issuer is not None:
            key = (url, issuer.fingerprint(hashes.SHA256()))
            signed = _once(self._signed, key, lambda: asyncio.to_thread(crl.is_signature_valid, issuer.public_key()))  # type: ignore[arg-type]
            if not await signed:
                return Outcome("error", "revocation.crl_signature", {"url": url})
        revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if revoked is not None:
            since = f"{revoked.revocation_date_utc:%Y-%m-%d}"
            return Outcome("error", "revocation.revoked_crl", {"url": url, "serial": f"{cert.serial_number:x}", "since": since})
        if crl.next_update_utc is not None and crl.next_update_utc < datetime.datetime.now(datetime.UTC):
            return Outcome("warning", "revocation.crl_stale", {"url": url, "next_update": f"{crl.next_update_utc:%Y-%m-%d %H:%M}"})
        return Outcome("ok", "revocation.crl_good", {"url": url})

    async def _ocsp_status(self, url: str, cert: x509.Certificate, issuer: x509.Certificate | None) -> Outcome:
        if issuer is None:  # a request names the issuer: without it, only whether the responder answers
            await self._reachable(url)
            return Outcome("ok", "revocation.ocsp_reachable", {"url": url})
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()  # noqa: S303 - OCSP's CertID uses SHA-1
        der = request.public_bytes(serialization.Encoding.DER)
        data = await _once(self._ocsp, (url, cert.serial_number), lambda: self._fetch(url, MAX_OCSP, der))
        try:
            answer = ocsp.load_der_ocsp_response(data)
        except ValueError:
            return Outcome("error", "revocation.not_ocsp", {"url": url})
        if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return Outcome("error", "revocation.ocsp_failed", {"url": url, "status": answer.response_status.name.lower()})
        return _judge_ocsp(url, answer, cert, issuer)

    async def _reachable(self, url: str) -> None:
        target = httpx.URL((await self._address(url))[0])
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(target.host, target.port or 80), self.timeout)
        except (OSError, TimeoutError):
            raise Unreachable("revocation.unreachable", {**_where(url), "error": None}) from None
        writer.close()


def _load_crl(data: bytes) -> x509.CertificateRevocationList | None:
    try:
        return x509.load_der_x509_crl(data) if not data.startswith(b"-----") else x509.load_pem_x509_crl(data)
    except ValueError:
        return None


def _judge_ocsp(url: str, answer: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate) -> Outcome:
    signer = _responder(answer, issuer)
    if signer is None or not _verify(signer, answer.signature, answer.tbs_response_bytes, answer.signature_hash_algorithm):
        return Outcome("error", "revocation.ocsp_signature", {"url": url})
    if answer.serial_number != cert.serial_number:
        return Outcome("error", "revocation.ocsp_other", {"url": url})
    status: ocsp.OCSPCertStatus = answer.certificate_status
    if status == ocsp.OCSPCertStatus.REVOKED:
        when = answer.revocation_time_utc
        since = f"{when:%Y-%m-%d}" if when else None
        return Outcome("error", "revocation.revoked_ocsp", {"url": url, "serial": f"{cert.serial_number:x}", "since": since})
    stale = _outside_window(answer, datetime.datetime.now(datetime.UTC))
    if stale is not None:  # OpenSSL refuses such an answer, as the platform's handshake would: as a stale CRL
        return Outcome("warning", stale[0], {"url": url, **stale[1]})
    if status == ocsp.OCSPCertStatus.UNKNOWN:
        return Outcome("warning", "revocation.ocsp_unknown", {"url": url})
    return Outcome("ok", "revocation.ocsp_good", {"url": url})


def _outside_window(answer: ocsp.OCSPResponse, now: datetime.datetime) -> tuple[str, dict[str, str]] | None:
    """An answer not yet valid (thisUpdate ahead of now) or past its nextUpdate, beyond SKEW."""
    if answer.this_update_utc > now + SKEW:
        return "revocation.ocsp_future", {"this_update": f"{answer.this_update_utc:%Y-%m-%d %H:%M}"}
    if answer.next_update_utc is not None and answer.next_update_utc < now - SKEW:
        return "revocation.ocsp_stale", {"next_update": f"{answer.next_update_utc:%Y-%m-%d %H:%M}"}
    return None


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
