"""Every loader refusal, with the exact position a user is sent to."""

from __future__ import annotations

import tracemalloc

import pytest

from notifycfg.config.loader import MAX_FILE_BYTES, LoadError, load_document
from notifycfg.config.validate import validate


def refusal(text: str | bytes) -> LoadError:
    raw = text.encode() if isinstance(text, str) else text
    with pytest.raises(LoadError) as info:
        load_document("f.yaml", "org", raw)
    return info.value


@pytest.mark.parametrize(
    ("text", "rule", "line", "column"),
    [
        ("email:\n  from: [a,\n", "L001", 3, 1),
        ("email:\n  from:\n    address: a@b.com\n    address: c@d.com\n", "L002", 4, 5),
        ("a: 1\n1: 2\n", "L004", 2, 1),
        ("email:\n  on: 1\n", "L004", 2, 3),
        ("? [a, b]\n: 1\n", "L004", 1, 3),
        ("email: {}\n---\nemail: {}\n", "L005", 2, 1),
        ("- a\n- b\n", "L006", 1, 1),
        ("just text\n", "L006", 1, 1),
        (b"email:\n  from:\n    display_name: \xff\xfe\n", "L007", 3, 19),
        ("x: !!python/object/apply:os.system [echo pwned]\n", "L011", 1, 4),
        ("x: !!binary aGVsbG8=\n", "L011", 1, 4),
        ("x: !!set {a, b}\n", "L011", 1, 4),
        ("x: !!omap [a: 1]\n", "L011", 1, 4),
        ("a: &a [*a]\n", "L003", 1, 4),
    ],
)
def test_refusals_point_at_the_line(text, rule, line, column):
    error = refusal(text)
    assert (error.rule, error.line, error.column) == (rule, line, column), error.message


def test_duplicate_key_names_first_occurrence():
    error = refusal("a: 1\nb: 2\na: 3\n")
    assert "`a`" in error.message and "line 1" in error.message


def test_yaml11_boolean_key_says_quote_it():
    error = refusal("notifications:\n  no: {}\n")
    assert 'quote it ("no")' in error.message


def test_billion_laughs_is_refused_small():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    tracemalloc.start()
    error = refusal("\n".join(lines) + "\n")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert error.rule == "L003" and "alias" in error.message
    # A bomb expands to 9^9 values: refused long before, in little memory (and time: pytest-timeout bounds it).
    assert peak < 20 * 1024 * 1024


def test_merge_keys_are_fine_and_duplicates_across_merge_are_not_errors():
    doc = load_document("f.yaml", "org", b"base: &b {enabled: true}\nnotifications:\n  job_alerts:\n    <<: *b\n    enabled: false\n")
    assert doc.data["notifications"]["job_alerts"] == {"enabled": False}


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deep_nesting_is_refused_not_crashed(depth):
    error = refusal("a: " + "[" * depth + "]" * depth + "\n")
    assert error.rule == "L003" and "nested" in error.message


def test_deep_block_sequence_is_refused():
    error = refusal("a: " + "- " * 5000 + "x\n")
    assert error.rule in ("L003", "L001")


def test_oversized_file():
    error = refusal(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    assert error.rule == "L008" and (error.line, error.column) == (1, 1)


def test_bom_empty_and_comment_only_files_are_no_overrides():
    assert load_document("f", "org", b"\xef\xbb\xbfemail: {}\n").data == {"email": {}}
    assert load_document("f", "org", b"").data == {}
    assert load_document("f", "org", b"# nothing here\n").data == {}


def test_nul_byte_is_a_syntax_error():
    assert refusal(b"a: b\x00c\n").rule == "L001"


def test_file_names_are_org_ids(env):
    root = env(
        {
            "orgs/Acme.yaml": "",
            "orgs/ok.yml": "",
            "orgs/-lead.yaml": "",
            "orgs/" + "a" * 64 + ".yaml": "",
            "orgs/good-1.yaml": "",
            "orgs/sub/x.yaml": "",
            "orgs/.gitkeep": "",
        }
    )
    result = validate([str(root)])
    flagged = sorted((p.file.rsplit("/orgs/", 1)[1], p.rule) for p in result.problems)
    assert flagged == [("-lead.yaml", "L009"), ("Acme.yaml", "L009"), ("a" * 64 + ".yaml", "L009"), ("ok.yml", "L009"), ("sub", "L013")]


def test_environment_without_host(env, tmp_path):
    (tmp_path / "lonely" / "orgs").mkdir(parents=True)
    result = validate([str(tmp_path / "lonely")])
    assert [p.rule for p in result.problems] == ["L012"]


def test_unreadable_file_is_reported_not_crashed(env):
    root = env({})
    (root / "orgs").mkdir()
    (root / "orgs" / "gone.yaml").symlink_to(root / "nowhere.yaml")
    result = validate([str(root)])
    assert [(p.rule, p.line, p.column) for p in result.problems] == [("L010", 1, 1)]


def test_validate_lays_in_memory_documents_over_the_disk(env):
    """What promote and import would write is checked under its real name, the disk untouched."""
    root = env({"orgs/acme.yaml": "", "orgs/gone.yaml": "email: {from: {address: nope}}\n"})
    before = sorted(p.name for p in (root / "orgs").iterdir())
    result = validate(
        [str(root)],
        {root / "orgs" / "newco.yaml": b"email:\n  from:\n    address: not-an-address\n", root / "orgs" / "gone.yaml": None},
    )
    assert result.paths == (f"{root}/host.yaml", f"{root}/orgs/acme.yaml", f"{root}/orgs/newco.yaml")
    assert [(p.file, p.rule) for p in result.problems] == [(f"{root}/orgs/newco.yaml", "R001")]  # the address
    assert sorted(p.name for p in (root / "orgs").iterdir()) == before
