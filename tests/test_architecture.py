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


PACKAGES = ("notifycfg", "smtp_harness")
# The one place each package names loosely typed JSON data (Any underneath): signatures use these names.
JSON_ALIASES = {("notifycfg.datapath", "Json"), ("smtp_harness.jsontypes", "Json")}


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts), ast.parse(path.read_text(encoding="utf-8"))


def _mentions_any(node: ast.AST | None) -> bool:
    return node is not None and any(
        (isinstance(n, ast.Name) and n.id == "Any") or (isinstance(n, ast.Attribute) and n.attr == "Any") for n in ast.walk(node)
    )


def _public_any(module: str, body: list[ast.stmt], prefix: str = "", in_class: bool = False) -> list[str]:
    found = []
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (not node.name.startswith("_") or node.name == "__init__"):
            args = node.args
            annotated = [a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a]
            if any(map(_mentions_any, annotated)) or _mentions_any(node.returns):
                found.append(f"{module}.{prefix}{node.name}")
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found += _public_any(module, node.body, f"{prefix}{node.name}.", True)
        elif isinstance(node, ast.AnnAssign) and in_class and isinstance(node.target, ast.Name) and not node.target.id.startswith("_"):
            if _mentions_any(node.annotation):
                found.append(f"{module}.{prefix}{node.target.id}")
        elif isinstance(node, ast.Assign) and not in_class:
            names = [t.id for t in node.targets if isinstance(t, ast.Name) and not t.id.startswith("_")]
            if names and _mentions_any(node.value) and (module, names[0]) not in JSON_ALIASES:
                found.append(f"{module}.{names[0]} (alias)")
    return found


def test_no_any_in_a_public_signature():
    """Functions, methods, public class attributes (dataclass fields are constructor arguments) and
    public aliases of both packages; loosely typed JSON goes through the two named aliases."""
    found = [
        name for module, tree in _modules() if not module.rsplit(".", 1)[-1].startswith("_") for name in _public_any(module, tree.body)
    ]
    assert not found, "\n".join(found)


def test_no_function_longer_than_a_screen():
    long = [
        f"{module}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for module, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 60
    ]
    assert not long, "\n".join(long)


def test_mypy_overrides_name_every_test_module():
    """tests/ is not a package, so mypy sees its modules by bare name: each must be in the override."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = {m for o in config["tool"]["mypy"]["overrides"] for m in o["module"]}
    present = {p.stem for p in (ROOT / "tests").glob("*.py")}
    assert present <= listed, sorted(present - listed)


def test_no_test_module_imports_another():
    """Shared fixtures and helpers live in tests/support (or conftest): a test module is never imported."""

    tests = ROOT / "tests"
    names = {p.stem for p in tests.glob("test_*.py")}
    found = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            imported = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name} imports {name}" for name in imported if name.split(".")[0] in names]
    assert not found, found


def _importable(module: object, name: str) -> bool:
    """An attribute of the module, or a submodule of that name (`from notifycfg.config import schema`)."""
    import importlib

    if hasattr(module, name):
        return True
    try:
        importlib.import_module(f"{module.__name__}.{name}")  # type: ignore[attr-defined]
    except ImportError:
        return False
    return True


def test_every_name_the_benchmarks_import_from_the_packages_exists():
    """The benchmarks run only under `tox -e bench`, outside the suite and mypy: a name moved in a refactoring
    (smtp_harness.store.Message, once) must still be found where they import it, imports inside functions too."""
    import ast
    import importlib

    missing = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("notifycfg", "smtp_harness"):
                module = importlib.import_module(node.module or "")
                missing += [f"{path.name}: {node.module}.{a.name}" for a in node.names if not _importable(module, a.name)]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in ("notifycfg", "smtp_harness"):
                        importlib.import_module(alias.name)
    assert not missing, missing
