"""Format checks the schemas name (`email`, `smtp-host`, `header-text`).

Each check returns an error message, or None when the value is fine; the
schema layer wraps them for both validator engines. Plain, common values take
a fast path so email-validator is only imported for the unusual ones.
"""

from __future__ import annotations

import ipaddress
import re

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A strict subset of what email-validator accepts: plain ASCII dot-atoms at a
# DNS name. Anything else goes to email-validator for the real verdict.
_PLAIN_EMAIL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+{_TLD}")
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")
# Names email-validator refuses as special-use (RFC 6761 and friends).
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
# Control characters, DEL, and Unicode line/paragraph separators: anything a
# mail header could be split or smuggled with.
_HEADER_BREAKERS = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


def _plain_email(value: str) -> bool:
    if len(value) > 254 or not _PLAIN_EMAIL.fullmatch(value):
        return False
    local, _, domain = value.rpartition("@")
    labels = domain.lower().split(".")
    return len(local) <= 64 and labels[-1] not in _SPECIAL_USE and not any("--" in label for label in labels)


def email_problem(value: str) -> str | None:
    if _HEADER_BREAKERS.search(value):
        return "contains a line break or control character (header injection)"
    if _plain_email(value):
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def smtp_host_problem(value: str) -> str | None:
    if _HEADER_BREAKERS.search(value):
        return "contains a line break or control character"
    if "%" in value:  # a scoped IPv6 address (fe80::1%eth0) names an interface of this machine, not a relay
        return "contains '%': a scoped IPv6 address (or anything else with a %) is not a relay's address"
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    if len(value) <= 253 and _HOSTNAME.fullmatch(value) and not value.replace(".", "").isdigit():
        return None
    return "is neither an IP address nor a valid domain name"


def header_text_problem(value: str) -> str | None:
    if _HEADER_BREAKERS.search(value):
        return "contains a line break or control character (header injection)"
    return None


def display_name_change(value: str) -> str | None:
    """How mail readers would change a display name sent as written (RFC 5322 parsers trim and
    collapse whitespace in a phrase and decode `=?...?=`), or None when it arrives unchanged."""
    if value != value.strip(" "):
        return "spaces at either end are dropped"
    if "  " in value:
        return "a run of spaces is read as one"
    if "=?" in value:
        return "`=?` starts an encoded word that readers decode"
    return None


def regex_problem(value: str) -> str | None:
    import re as regex
    import warnings

    try:
        with warnings.catch_warnings():  # "possible nested set" and the like: valid today, and not ours to print
            warnings.simplefilter("ignore", FutureWarning)
            regex.compile(value)
    except regex.error as exc:
        return f"is not a valid regular expression: {exc}"
    return None


FORMATS = {
    "regex": regex_problem,
    "email": email_problem,
    "smtp-host": smtp_host_problem,
    "header-text": header_text_problem,
}
