"""Fuzzing the inputs: every outcome is success or a located problem, never an exception or a hang.

Bounded for the normal suite; `tox -e fuzz` runs the same properties with many
more examples (HYPOTHESIS_PROFILE=long).
"""

from __future__ import annotations

import contextlib
import json
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CONFIGS, HOST
from hypothesis import given, settings
from hypothesis import strategies as st

from notifycfg.compile.environment import load_environment
from notifycfg.config.loader import LoadError, load_document
from notifycfg.config.validate import validate

SHARP_EDGES = [
    "&a [1, 2]",
    "*a",
    "<<: *a",
    "<<: [*a, *b]",
    "!!python/object/apply:os.system ['touch /tmp/nc-pwned']",
    "!!python/name:os.system",
    "!!binary aGk=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 2024-01-01",
    "\ufeff",
    "\x00",
    "\u2028",
    "\u2029",
    "\x85",
    "\t",
    "---",
    "...",
    "%YAML 1.1",
    "%TAG ! tag:x,2000:",
    "? [a]",
    ": x",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "'",
    '"',
    "|",
    ">",
    "#",
    "no",
    "on",
    "yes",
    "~",
    "null",
    ".nan",
    ".inf",
    "0x1F",
    "1e400",
    "2024-01-01",
    "12:30:00",
    "a" * 5000,
    "[" * 200,
    "{" * 200,
    "- " * 100,
    "email:",
    "  smtp:",
    "    host: x",
    "password: p",
    "notifications:",
    "  job_alerts:",
    "    recipients: [a@example.com]",
    "enabled: true",
    'display_name: "a\\r\\nb"',
]
fragments = st.lists(st.one_of(st.sampled_from(SHARP_EDGES), st.text(max_size=20)), max_size=25)
yamlish = st.builds(
    lambda parts, seps: "".join(p + s for p, s in zip(parts, seps, strict=False)),
    fragments,
    st.lists(st.sampled_from(["\n", " ", ": ", "\n  ", "\n- ", ", "]), min_size=25, max_size=25),
)


@contextlib.contextmanager
def _env_with(files: dict[str, bytes]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="nc-fuzz-") as scratch:
        yield _fill(Path(scratch), files)


def _fill(root: Path, files: dict[str, bytes]) -> Path:
    (root / "orgs").mkdir()
    (root / "flows").mkdir()
    (root / "host.yaml").write_text(HOST)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def _assert_located(paths: list[str]) -> None:
    result = validate(paths)  # must not raise
    for p in result.problems:
        assert p.line >= 1 and p.column >= 1 and p.rule and p.message, p


@given(st.binary(max_size=400))
def test_arbitrary_bytes_load_or_refuse(raw):
    try:
        load_document("f.yaml", "org", raw)
    except LoadError as exc:
        assert exc.line >= 1 and exc.column >= 1


@given(yamlish)
def test_arbitrary_yaml_never_escapes(text):
    try:
        load_document("f.yaml", "org", text.encode("utf-8", "surrogatepass"))
    except LoadError:
        pass
    except UnicodeEncodeError:
        return
    assert not Path("/tmp/nc-pwned").exists()


@given(yamlish, st.sampled_from(["host.yaml", "orgs/acme.yaml", "flows/a-flow.yaml"]))
def test_validate_and_compile_any_file(text, name):
    with _env_with({name: text.encode("utf-8", "replace")}) as root:
        _assert_located([str(root)])
        env, _ = load_environment(str(root))
        if env is not None:
            env.all_effective()  # a valid environment always compiles


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        move = rng.randrange(6)
        if move == 0:
            lines[i] = ""
        elif move == 1:
            lines.insert(i, rng.choice(SHARP_EDGES) + "\n")
        elif move == 2:
            lines.insert(i, lines[i])
        elif move == 3 and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif move == 4:
            cut = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:cut] + rng.choice(SHARP_EDGES) + lines[i][cut:]
        else:
            lines[i] = " " * rng.randrange(5) + lines[i].lstrip()
    return "".join(lines)


SHIPPED = sorted(p for p in CONFIGS.rglob("*.yaml"))


@given(st.integers(min_value=0, max_value=len(SHIPPED) - 1), st.randoms(use_true_random=False))
def test_mutated_shipped_configs(index, rng):
    source = SHIPPED[index]
    kind_dir = source.parent.name
    name = source.name if source.name in ("host.yaml", "platform.yaml", "deliverability.yaml") else f"{kind_dir}/{source.name}"
    with _env_with({name: _mutate(source.read_text(), rng).encode()}) as root:
        for org in ("acme", "globex", "initech", "umbrella-labs", "hooli"):
            if not (root / "orgs" / f"{org}.yaml").exists():
                (root / "orgs" / f"{org}.yaml").write_text("")
        _assert_located([str(root)])
        env, _ = load_environment(str(root))
        if env is not None:
            env.all_effective()


def test_python_tags_construct_nothing(tmp_path):
    marker = tmp_path / "pwned"
    for payload in [
        f"x: !!python/object/apply:os.system ['touch {marker}']\n",
        f"x: !!python/object/new:os.system ['touch {marker}']\n",
        "x: !!python/name:os.system\n",
        "x: !!python/module:os\n",
    ]:
        with pytest.raises(LoadError) as info:
            load_document("f.yaml", "org", payload.encode())
        assert info.value.rule == "L011"
    assert not marker.exists()


@pytest.mark.parametrize(
    "text",
    [
        "!!timestamp 2024-01-01\n- ",  # found by tox -e fuzz: PyYAML raised AttributeError
        "x: !!timestamp 2024-13-45\n",
        "x: !!int abc\n",
        "x: !!float nope\n",
        "x: !!bool maybe\n",
        "x: !!binary '***'\n",
        "x: !!seq abc\n",
        "x: !!map abc\n",
    ],
)
def test_mistagged_values_are_located_refusals(text):
    with pytest.raises(LoadError) as refused:
        load_document("f.yaml", "org", text.encode())
    assert refused.value.rule in ("L001", "L011") and refused.value.line >= 1 and refused.value.column >= 1


@pytest.mark.parametrize(
    "payload",
    [
        b"\xef\xbb\xbf" + b"email: {}\n",
        b"a: b\x00\n",
        "a: \u2028b\n".encode(),
        b"a: " + b"x" * 200_000 + b"\n",
        b"- " * 300 + b"x\n",
        b"a:\n" + b"".join(b" " * i + b"b:\n" for i in range(1, 120)),
    ],
)
def test_sharp_edges_are_reported_not_crashed(payload, tmp_path):
    _assert_located([str(_fill(tmp_path, {"orgs/edge.yaml": payload}))])


# --- outside text through every reporter ---------------------------------------------------------------

ATTACKS = [
    "\r\n\ndoctor: ok: 9 endpoint(s), 0 error(s), 0 warning(s)\n\x00\x0b\x1bc",
    "\x1b[2J\x07",
    "<img src=x onerror=alert(1)>",
    "</summary><script>alert(1)</script>",
    "]]><evil/>",
    "\ud800",
    "\u202eevil",
    "\ufffe\uffff",
    "a|b `c` [x](javascript:alert(1)) www.evil.example bob@evil.example",
    "&amp; &#0; &lt;",
]
hostile = st.one_of(st.sampled_from(ATTACKS), st.text(max_size=40), st.lists(st.sampled_from(ATTACKS), min_size=1, max_size=3).map("".join))


def _doctor_result(s: str):
    """Every kind of outside text doctor shows: DNS records and pyspf's words, a server's banner and reply,
    a certificate's URL, a PTR name."""
    from notifycfg.compile.endpoint import Endpoint
    from notifycfg.doctor.model import Check, DoctorResult, Outcome, Probed, SenderPair, combined

    endpoint = Endpoint("relay.example.com", 587, "starttls")
    probed = Probed(endpoint, ["acme"], {"acme": None})
    probed.checks = [
        Check("greeting", "ok", "greeting.ok", {"banner": s}),
        Check("ehlo", "error", "ehlo.refused", {"reply_code": 554, "text": s}),
        Check("tls", "error", "tls.injection", {"bytes": 9, "sample": s, "when": "after_starttls"}),
        combined("revocation", [Outcome("error", "revocation.not_crl", {"url": s}), Outcome("ok", "revocation.ocsp_good", {"url": s})]),
        Check("auth", "error", "auth.refused", {"login": "svc", "reply_code": 535, "text": s, "early": False}, "svc"),
    ]
    pair = SenderPair("example.com", "relay.example.com", ["acme"], sending_ips=["192.0.2.1"])
    pair.checks = [
        Check(
            "spf",
            "error",
            "spf.permerror",
            {
                "domain": "example.com",
                "relay": "r",
                "source": "declared",
                "results": [{"ip": "192.0.2.1", "result": "permerror", "explanation": s}],
            },
        ),
        Check("dmarc", "error", "dmarc.bad_policy", {"name": "example.com", "tag": "p", "value": s}),
        Check("dkim", "ok", "dkim.rsa", {"selectors": [{"status": "ok", "code": "dkim.rsa", "selector": s, "name": s, "bits": 2048}]}),
        Check("mx", "ok", "mx.found", {"domain": "example.com", "exchanges": [s]}),
        Check("ptr", "warning", "ptr.unconfirmed", {"unconfirmed": [{"ip": "192.0.2.1", "names": [s]}]}),
    ]
    return DoctorResult([probed], {"acme": endpoint}, senders=[pair], org_sender={"acme": pair})


def _flows_result(s: str):
    from notifycfg.notify.flows import Captured, Flow, FlowResult, FlowsResult

    flow = Flow(s, s, s, s, {}, {}, {"subject": s})
    captured = Captured(s, (s,), s, s, True, s, s, ((s, s),), s, s)
    return FlowsResult([FlowResult(flow, failures=[s], messages=1, outcome=s, captured=[captured])])


@settings(max_examples=max(200, settings.default.max_examples))
@given(hostile)
def test_outside_text_is_inert_in_every_reporter_and_format(s):
    import unicodedata
    import xml.etree.ElementTree as ET
    from html.parser import HTMLParser

    from support.markdown import Rendered

    from notifycfg.report import DOCTOR, html

    result = _doctor_result(s)
    text = DOCTOR["text"](result)
    assert not [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")], repr(text)
    assert [line for line in text.splitlines() if line.startswith("doctor: ")] == [text.splitlines()[-1]]  # no forged verdict
    ET.fromstring(DOCTOR["junit"](result))  # parses, whatever the data held
    page = Rendered(DOCTOR["markdown"](result))
    assert set(page.tags) <= {"p", "strong", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "ul", "li"}, page.tags
    assert page.attrs == [], page.attrs
    json.loads(DOCTOR["json"](result))

    class Elements(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tags: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)

    report, bare = Elements(), Elements()
    report.feed(html.flows(_flows_result(s)))
    bare.feed(html.flows(_flows_result("plain" if s else "")))  # an empty HTML part is a <p>, not a frame
    assert report.tags == bare.tags  # the data made no element of its own
