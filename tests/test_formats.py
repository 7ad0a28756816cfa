"""The fast address path never accepts what email-validator would refuse."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import event, given, settings
from hypothesis import strategies as st

from notifycfg.config.formats import _plain_email, email_problem, header_text_problem, smtp_host_problem

local = st.text(alphabet="abcXYZ019.!#-_+~'", min_size=1, max_size=12)
label = st.text(alphabet="abz09-", min_size=1, max_size=8)
domain = st.lists(label, min_size=1, max_size=4).map(".".join)
tlds = st.sampled_from(["com", "org", "x", "test", "local", "c0m", "9z", "xn--p1ai", "ab--cd", "localhost"])
addresses = st.builds(lambda lp, d, t: f"{lp}@{d}.{t}", local, domain, tlds)


@settings(max_examples=400, deadline=None)
@given(addresses)
def test_fast_path_is_a_subset_of_email_validator(address):
    if _plain_email(address):
        validate_email(address, check_deliverability=False)  # must not raise


def _damaged(address: str, at: int, char: str) -> str:
    at %= len(address) + 1
    return address[:at] + char + address[at:]


# Mostly addresses and near-addresses: arbitrary text alone is nearly never an address, and the
# assertion below would never run (it once ran 0 times in 1,000 examples).
candidates = st.one_of(
    addresses,
    st.builds(_damaged, addresses, st.integers(0, 40), st.sampled_from(list(' @..-_"<>()[],;:\u00e9\x00'))),
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(candidates)
def test_verdicts_agree_with_email_validator(value):
    """What email_problem accepts, email-validator accepts too."""
    try:
        validate_email(value, check_deliverability=False)
        accepted = True
    except EmailNotValidError:
        accepted = False
    if email_problem(value) is None:
        event("accepted by email_problem")
        assert accepted, value
    else:
        event("refused by email_problem")


def test_header_breakers():
    for bad in ["a\nb", "a\rb", "a\x00b", "a\u2028b", "a\x85b", "tab\there"]:
        assert header_text_problem(bad)
    assert header_text_problem("Ünïcödé Platform — alerts") is None


def test_smtp_hosts():
    for good in ["smtp.example.com", "10.0.0.1", "::1", "localhost", "mail-1.example.co.uk", "example.com."]:
        assert smtp_host_problem(good) is None, good
    for bad in ["", "bad host", "-x.com", "a..b", "999.1.1.1", "x" * 64 + ".com", "h\r\n.com"]:
        assert smtp_host_problem(bad), bad
