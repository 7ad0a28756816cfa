"""The packaged JSON Schemas: one fast validator per file kind, and precise
problems for the documents that fail.

Two engines, one schema: jsonschema-rs answers "valid?" in microseconds for
the common case; the reference `jsonschema` library (imported only when a
document fails) explains why, with error objects we can map to rule ids,
positions and messages that never echo a secret.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from notifycfg.config.formats import FORMATS
from notifycfg.config.loader import Document
from notifycfg.config.problems import Problem
from notifycfg.datapath import DataPath, Json, JsonObject, dotted

SCHEMA_FILES = {
    "host": "host.schema.json",
    "org": "org.schema.json",
    "flow": "flow.schema.json",
    "platform": "platform.schema.json",
    "deliverability": "deliverability.schema.json",
}
SECRET_MARK = "x-notifycfg-secret"
YAML11_BOOLEANS = {"y", "yes", "n", "no", "on", "off", "true", "false"}


def schema_dir() -> Path:
    """Packaged copy inside the wheel, else the repository's `schemas/`."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "schemas"
    return packaged if packaged.is_dir() else package.parent / "schemas"


@cache
def schemas() -> dict[str, JsonObject]:
    """Every schema file by name (host, org, flow and their shared defs)."""
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(schema_dir().glob("*.schema.json"))}


def _rs_format(check: Any) -> Any:
    return lambda value: check(value) is None


@cache
def _fast(kind: str) -> Any:
    registry = jsonschema_rs.Registry([(s["$id"], s) for s in schemas().values()])
    return jsonschema_rs.validator_for(
        schemas()[SCHEMA_FILES[kind]],
        registry=registry,
        formats={name: _rs_format(check) for name, check in FORMATS.items()},
        validate_formats=True,
    )


@cache
def _reference(kind: str) -> Any:
    import jsonschema
    from referencing import Registry, Resource

    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas().values())
    checker = jsonschema.FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value) is None)
    return jsonschema.Draft202012Validator(schemas()[SCHEMA_FILES[kind]], registry=registry, format_checker=checker)


def resolve(ref_schema: JsonObject, base: str) -> JsonObject:
    """Follow one local or cross-file `$ref` (the only kinds our schemas use)."""
    ref = ref_schema["$ref"]
    file, _, pointer = ref.partition("#")
    target = schemas()[file] if file else schemas()[base]
    for part in filter(None, pointer.split("/")):
        target = target[part]
    merged = {k: v for k, v in ref_schema.items() if k != "$ref"}
    return {**target, **merged}


def _walk_defaults(schema: dict[str, Any], base: str) -> Any:
    if "$ref" in schema:
        file = schema["$ref"].partition("#")[0] or base
        return _walk_defaults(resolve(schema, base), file)
    if "default" in schema:
        return schema["default"]
    out = {}
    for key, sub in schema.get("properties", {}).items():
        value = _walk_defaults(sub, base)
        if value is not None:
            out[key] = value
    return out or None


@cache
def defaults(kind: str = "org") -> JsonObject:
    """The schema's `default` annotations as one tree: the bottom layer."""
    name = SCHEMA_FILES[kind]
    return _walk_defaults(schemas()[name], name) or {}


def default_at(path: DataPath, kind: str = "org") -> object:
    """The schema's default at `path` (None where it sets none): code never repeats a default."""
    node: object = defaults(kind)
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def fast_is_valid(kind: str, data: Json) -> bool:
    try:
        return bool(_fast(kind).is_valid(data))
    except ValueError:
        return False  # a type JSON has no word for (a YAML date): let the reference engine explain


def schema_problems(doc: Document) -> list[Problem]:
    """Every schema violation in `doc`, as positioned problems."""
    if fast_is_valid(doc.kind, doc.data):
        return []
    problems: list[Problem] = []
    for error in _reference(doc.kind).iter_errors(doc.data):
        for path, rule, message, at_key in _explain(error, doc):
            line, column = doc.locate(path, at_key=at_key)
            problems.append(Problem(doc.file, line, column, dotted(path), rule, "error", message))
    return sorted(set(problems))


Finding = tuple[DataPath, str, str, bool]


def _explain(error: Any, doc: Document) -> Iterator[Finding]:
    path: DataPath = tuple(error.absolute_path)
    name = f"`{dotted(path)}`" if path else "the file"
    keyword = error.validator
    secret = _under_secret(error)
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        yield from _unknown_keys(error, path)
    elif keyword == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        for key in missing:
            where = f"in {name}" if path else "at the top level"
            yield path, "S002", f"missing required key `{key}` {where}", bool(path)
    elif keyword == "type":
        yield _wrong_type(error, path, name, doc, secret)
    elif keyword == "format":
        yield _bad_format(error, path, name)
    elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        yield path, "S005", f"{name} must be {_bound(keyword)} {error.validator_value}, got {error.instance}", False
    elif keyword in ("minLength", "maxLength", "minItems", "maxItems"):
        yield path, "S005", f"{name} {_size(keyword, error.validator_value)}, has {len(error.instance)}", False
    elif keyword in ("minProperties", "maxProperties") and error.schema.get(SECRET_MARK):
        yield path, "S006", f"{name} must name exactly one source: {{env: NAME}} or {{file: PATH}}", False
    elif keyword == "pattern":
        shown = "the value" if secret else f"`{error.instance}`"
        form = error.schema.get("description", error.validator_value)
        yield path, "S006", f"{name}: {shown} does not have the expected form ({form})", False
    elif keyword == "enum" and not secret:
        accepted = [str(v) for v in error.validator_value]
        close = difflib.get_close_matches(str(error.instance), accepted, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"expected one of: {', '.join(accepted)}"
        yield path, "S007", f"{name}: {json.dumps(error.instance)} is not accepted, {hint}", False
    else:
        yield path, "S007", f"{name} is not an accepted value ({keyword})", False


def _under_secret(error: Any) -> bool:
    # A value under a secret reference might be the secret itself: never echo it.
    return bool(secret_keys() & {part for part in error.absolute_path if isinstance(part, str)})


@cache
def secret_keys() -> frozenset[str]:
    """Property names whose schema is a secret reference (`password`)."""
    found: set[str] = set()

    def visit(node: Any, base: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if isinstance(sub, dict) and ("$ref" in sub and resolve(sub, base).get(SECRET_MARK)):
                    found.add(key)
            for value in node.values():
                visit(value, base)
        elif isinstance(node, list):
            for value in node:
                visit(value, base)

    for name, schema in schemas().items():
        visit(schema, name)
    return frozenset(found)


def _unknown_keys(error: Any, path: DataPath) -> Iterator[Finding]:
    known = sorted(error.schema.get("properties", {}))
    for key in sorted(set(error.instance) - set(known)):
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else f"expected one of: {', '.join(known)}"
        yield path + (key,), "S001", f"`{key}`: unknown key, {hint}", True


_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "number": "a number",
}


def describe(value: Json) -> str:
    if value is True or value is False:
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {json.dumps(value[:60])}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a YAML {type(value).__name__} (quote it to make it a string)"


def _wrong_type(error: Any, path: DataPath, name: str, doc: Document, secret: bool) -> Finding:
    expected = error.validator_value
    words = " or ".join(_TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected))
    value = error.instance
    if value is None:
        return path, "S004", f"{name} is empty (null): give it a value or remove the key", False
    if error.schema.get(SECRET_MARK):
        return path, "R003", f"{name} is a plaintext secret: use a reference, {{env: NAME}} or {{file: PATH}}", False
    if secret:
        return path, "S003", f"{name}: expected {words}", False
    source = doc.scalar_source(path)
    if isinstance(value, bool) and source is not None and source.lower() in YAML11_BOOLEANS and expected == "string":
        return (
            path,
            "S003",
            (f'{name}: expected a string, got {describe(value)}: YAML reads unquoted `{source}` as a boolean; quote it: "{source}"'),
            False,
        )
    return path, "S003", f"{name}: expected {words}, got {describe(value)}", False


def _bad_format(error: Any, path: DataPath, name: str) -> Finding:
    fmt = error.validator_value
    reason = FORMATS[fmt](error.instance) if isinstance(error.instance, str) else None
    shown = json.dumps(error.instance)
    if fmt == "header-text" or (reason and "header injection" in reason):
        return path, "R002", f"{name} contains a line break or control character: header injection", False
    if fmt == "email":
        return path, "R001", f"{name}: {shown} is not a valid email address: {reason}", False
    return path, "S006", f"{name}: {shown} {reason}", False


def _bound(keyword: str) -> str:
    return {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than", "exclusiveMaximum": "less than"}[keyword]


def _size(keyword: str, limit: int) -> str:
    unit = "characters" if keyword.endswith("Length") else "items"
    return f"must have {'at least' if keyword.startswith('min') else 'at most'} {limit} {unit}"


def _walk_marked(schema: dict[str, Any], base: str, mark: str, path: DataPath, out: set[DataPath]) -> None:
    if "$ref" in schema:
        file = schema["$ref"].partition("#")[0] or base
        schema, base = resolve(schema, base), file
    if schema.get(mark):
        out.add(path)
    for key, sub in schema.get("properties", {}).items():
        _walk_marked(sub, base, mark, path + (key,), out)


@cache
def marked_paths(mark: str, kind: str = "org") -> frozenset[DataPath]:
    """Data paths whose schema carries annotation `mark` (e.g. x-notifycfg-merge)."""
    out: set[DataPath] = set()
    name = SCHEMA_FILES[kind]
    _walk_marked(schemas()[name], name, mark, (), out)
    return frozenset(out)


def replaced_paths() -> frozenset[DataPath]:
    """Blocks an upper layer replaces as a whole (`email.smtp`), declared with x-notifycfg-merge."""
    return marked_paths("x-notifycfg-merge")
