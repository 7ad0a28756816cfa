"""The walls, seen from a running process (import-linter checks them statically in tox -e static)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
from conftest import CONFIGS, ROOT

# What `notifycfg validate FILE` may load besides the standard library and notifycfg,
# click-style: a new import on the pre-commit path is a decision, made here.
VALIDATE_ALLOW_LIST = {
    "click",  # the command line
    "yaml",  # libyaml's parser
    "jsonschema_rs",  # the fast schema engine
}
# Loaded by those when present: jsonschema_rs imports certifi if it is installed;
# cython_runtime is a pseudo-module of PyYAML's C extension.
INCIDENTAL = {"certifi", "cython_runtime"}
NEVER_ON_THE_VALIDATE_PATH = {"aiosmtpd", "aiohttp", "smtplib", "ruamel", "trustme", "httpx", "smtp_harness"}

PROBE = """
import json, sys
from notifycfg.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
tops = {m.split('.')[0] for m in sys.modules}
print("PROBE " + json.dumps({
    "third_party": sorted(t for t in tops if t not in sys.stdlib_module_names and not t.startswith('_') and t != 'notifycfg'),
    "all": sorted(tops),
    "notifycfg": sorted(m for m in sys.modules if m.startswith('notifycfg.')),
}))
"""


def _imports(*args: str) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.rsplit("PROBE ", 1)[1])


def test_validate_one_file_imports_exactly_the_allow_list():
    found = _imports("validate", str(CONFIGS / "prod" / "orgs" / "initech.yaml"))
    assert VALIDATE_ALLOW_LIST <= set(found["third_party"]) <= VALIDATE_ALLOW_LIST | INCIDENTAL
    assert not NEVER_ON_THE_VALIDATE_PATH & set(found["all"])
    assert not [m for m in found["notifycfg"] if m.startswith(("notifycfg.notify", "notifycfg.promote", "notifycfg.compile"))]


@pytest.mark.parametrize("fmt", ["text", "json", "github", "junit", "sarif"])
def test_validate_with_problems_never_loads_the_smtp_or_http_stack(tmp_path, fmt):
    bad = tmp_path / "env" / "orgs"
    bad.mkdir(parents=True)
    (tmp_path / "env" / "host.yaml").write_text((CONFIGS / "prod" / "host.yaml").read_text())
    (bad / "x.yaml").write_text("email:\n  from:\n    address: not-an-address\n  smtp: {host: h, port: 99999, password: p}\n")
    found = _imports("validate", "--format", fmt, str(tmp_path / "env"))
    assert not NEVER_ON_THE_VALIDATE_PATH & set(found["all"])


def test_harness_never_imports_notifycfg():
    for path in (ROOT / "smtp_harness").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "notifycfg" for n in names), path


@pytest.mark.parametrize("package", ["notifycfg", "smtp_harness"])
def test_no_import_circle_inside_a_package_even_for_the_type_checker(package):
    grimp = pytest.importorskip("grimp")  # installed with import-linter (tox's py environment)
    graph = grimp.build_graph(package, exclude_type_checking_imports=False)
    circles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported != module and graph.chain_exists(imported, module):
                circles.append(f"{module} -> {imported} -> ... -> {module}: {graph.find_shortest_chain(imported, module)}")
    assert not circles, "\n".join(circles)
