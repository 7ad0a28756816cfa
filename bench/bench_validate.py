"""validate vs check-jsonschema vs a bare libyaml parse (the floor); compile vs validate.

Every figure is a whole command in a fresh process, as a user or pre-commit
runs it, so start-up is included for everyone.
"""

from __future__ import annotations

import json
import shutil
import sys

from common import WORK, Figure, timed
from gen import generate

from notifycfg.config import schema

SIZES = (100, 1_000, 10_000)
FLOOR = (
    "import sys, yaml\n"
    "from pathlib import Path\n"
    "root = Path(sys.argv[1])\n"
    "for p in [root / 'host.yaml', *sorted((root / 'orgs').glob('*.yaml'))]:\n"
    "    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)\n"
)
# Our custom formats, in the words check-jsonschema understands.
FORMAT_EQUIVALENTS = {"smtp-host": {"format": "hostname"}, "header-text": {"pattern": "^[^\\r\\n]*$"}, "email": {"format": "email"}}


def equivalent_schema(kind: str) -> dict:
    """One self-contained schema with the same constraints, for check-jsonschema."""
    files = schema.schemas()
    defs = json.loads(json.dumps(files["defs.schema.json"]["$defs"]))

    def rewrite(node):
        if isinstance(node, dict):
            if "$ref" in node:
                node["$ref"] = "#/$defs/" + node["$ref"].rsplit("/", 1)[1]
            if node.get("format") in FORMAT_EQUIVALENTS:
                node.update(FORMAT_EQUIVALENTS[node.pop("format")])
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)
        return node

    top = json.loads(json.dumps(files[schema.SCHEMA_FILES[kind]]))
    top.pop("$id", None)
    top["$defs"] = defs
    top["type"] = ["object", "null"]  # an empty org file means "no overrides"
    return rewrite(top)


def run(quick: bool = False) -> dict:
    cjs = shutil.which("check-jsonschema")
    if cjs is None:
        sys.exit("check-jsonschema is not installed: run through `tox -e bench`")
    schema_file = WORK / "org.equivalent.schema.json"
    WORK.mkdir(parents=True, exist_ok=True)
    schema_file.write_text(json.dumps(equivalent_schema("org")))
    me = [sys.executable, "-m", "notifycfg"]
    results: dict = {"sizes": {}, "one_file": {}}
    for size in SIZES[:2] if quick else SIZES:
        env = generate(WORK / f"env-{size}", size)
        orgs = sorted(str(p) for p in (env / "orgs").glob("*.yaml"))
        runs = 3 if size >= 10_000 else 5
        figures: list[Figure] = [
            timed("notifycfg validate", [*me, "validate", str(env)], runs, {0}),
            timed("libyaml parse (floor)", [sys.executable, "-c", FLOOR, str(env)], runs, {0}),
            timed("check-jsonschema", [cjs, "--schemafile", str(schema_file), *orgs], 1 if size >= 10_000 else 3, {0}),
        ]
        if _has_compile():
            figures.append(timed("notifycfg compile (json)", [*me, "compile", str(env), "--format", "json"], runs, {0}))
            out = WORK / f"out-{size}"
            figures.append(timed("notifycfg compile (files)", [*me, "compile", str(env), "-o", str(out)], runs, {0}))
        results["sizes"][size] = {f.name: {"times": f.times, "median": f.median, "peak_kib": f.peak_kib} for f in figures}
    env = WORK / "env-100"
    one = str(env / "orgs" / "org-00003.yaml")
    figures = [
        timed("notifycfg validate", [*me, "validate", one], 9, {0}),
        timed("check-jsonschema", [cjs, "--schemafile", str(schema_file), one], 9, {0}),
    ]
    results["one_file"] = {f.name: {"times": f.times, "median": f.median, "peak_kib": f.peak_kib} for f in figures}
    return results


def _has_compile() -> bool:
    from notifycfg.cli.app import main

    return "compile" in main.commands


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
