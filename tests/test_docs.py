"""The README stays true: rules listed as they are, commands that exist."""

from __future__ import annotations

from conftest import ROOT

from notifycfg.config.rules import RULES


def test_every_rule_is_documented_exactly():
    readme = (ROOT / "README.md").read_text()
    for rule in RULES.values():
        assert f"| {rule.id} | {rule.name} | {rule.severity} | {rule.summary} |" in readme


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
