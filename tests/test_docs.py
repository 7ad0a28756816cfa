"""The README stays true: rules listed as they are, commands that exist."""

from __future__ import annotations

from conftest import ROOT

from notifycfg.config.rules import RULES


def test_every_rule_is_documented_exactly():
    rules = (ROOT / "docs" / "rules.md").read_text()
    for rule in RULES.values():
        assert f"| {rule.id} | {rule.name} | {rule.severity} | {rule.summary} |" in rules


def test_readme_links_and_docs_exist():
    import re

    for doc in ["README.md", "ARCHITECTURE.md", "CONTRIBUTING.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]:
        text = (ROOT / doc).read_text()
        for target in re.findall(r"\]\(([^)#]+\.(?:md|png))\)", text):
            if not target.startswith("http"):
                assert ((ROOT / doc).parent / target).exists(), (doc, target)


def test_every_command_in_the_docs_exists():
    import re

    from conftest import cli

    commands = set()
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        commands |= set(re.findall(r"^notifycfg ([a-z-]+)", path.read_text(), flags=re.M))
    assert {"validate", "compile", "explain", "diff", "promote"} <= commands
    for command in sorted(commands):
        assert cli(command, "--help").returncode == 0, command


def test_every_schema_field_has_a_description():
    import json

    def walk(node, where):
        if isinstance(node, dict):
            props = node.get("properties", {})
            for key, sub in props.items():
                assert "description" in sub or "$ref" in sub, f"{where}.{key}"
                walk(sub, f"{where}.{key}")
            for key, sub in node.get("$defs", {}).items():
                assert "description" in sub, f"{where}#{key}"
                walk(sub, f"{where}#{key}")

    for path in (ROOT / "schemas").glob("*.schema.json"):
        walk(json.loads(path.read_text()), path.name)


def test_every_doctor_code_is_documented_and_every_documented_code_exists():
    import re

    from notifycfg.doctor.words import CODES

    text = (ROOT / "docs" / "doctor.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z_]+\.[a-z_0-9]+)` \|", text.split("## Codes", 1)[1], re.M)
    assert sorted(documented) == sorted(CODES)
