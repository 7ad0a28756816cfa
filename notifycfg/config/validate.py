"""discover -> load -> schema -> rules -> ValidationResult (printing is elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from notifycfg.config import rules, schema
from notifycfg.config.discover import Refusal, Target, discover
from notifycfg.config.loader import MAX_FILE_BYTES, Document, LoadError, load_document
from notifycfg.config.problems import Problem
from notifycfg.datapath import dotted
from notifycfg.files import ReadRefused, read_bounded


@dataclass(frozen=True)
class ValidationResult:
    paths: tuple[str, ...]
    problems: tuple[Problem, ...]
    documents: dict[str, Document] = field(default_factory=dict, compare=False, repr=False)

    @property
    def files(self) -> int:
        return len(self.paths)

    def ok(self, strict: bool = False) -> bool:
        failing = {"error", "warning"} if strict else {"error"}
        return not any(p.severity in failing for p in self.problems)

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)


class _Checked:
    """One file's outcome: its document when it loaded, and whether the schema passed."""

    def __init__(self, target: Target) -> None:
        self.problems: list[Problem] = []
        self.document: Document | None = None
        try:
            self.document = load_document(target.display, target.kind, read_bounded(target.path, MAX_FILE_BYTES))
        except ReadRefused as exc:
            self.problems.append(_refused(target.display, exc))
        except LoadError as exc:
            self.problems.append(Problem(target.display, exc.line, exc.column, "", exc.rule, "error", exc.message))
        except OSError as exc:
            self.problems.append(Problem(target.display, 1, 1, "", "L010", "error", f"cannot read: {exc.strerror}"))
        if self.document is not None:
            self.problems.extend(schema.schema_problems(self.document))

    @property
    def valid(self) -> bool:
        return self.document is not None and not self.problems


def _refused(display: str, exc: ReadRefused) -> Problem:
    if exc.size is not None:  # the loader's own words for a file too large
        return Problem(display, 1, 1, "", "L008", "error", f"file {exc.message}")
    return Problem(display, 1, 1, "", "L010", "error", f"cannot read: {exc.message}")


def validate(paths: list[str]) -> ValidationResult:
    """Check files and environment directories. FileNotFoundError for a missing path."""
    items = discover(paths)
    checked: dict[Path, _Checked] = {}
    problems: list[Problem] = []
    for item in items:
        if isinstance(item, Refusal):
            problems.append(Problem(item.display, 1, 1, "", item.rule, "error", item.message))
            continue
        outcome = checked[item.path] = _Checked(item)
        problems.extend(outcome.problems)
    hosts: dict[Path, _Checked | None] = {}
    org_ids: dict[Path, frozenset[str] | None] = {}  # per run: files may change between runs
    for item in items:
        document = checked[item.path].document if isinstance(item, Target) and checked[item.path].valid else None
        if isinstance(item, Target) and document is not None:
            problems.extend(_rule_problems(document, item, checked, hosts, org_ids))
    documents = {c.document.file: c.document for c in checked.values() if c.document is not None}
    return ValidationResult(tuple(item.display for item in items), tuple(sorted(problems)), documents)


def _host_for(target: Target, checked: dict[Path, _Checked], hosts: dict[Path, _Checked | None]) -> Document | None:
    root = target.environment
    if root not in hosts:
        host_path = root / "host.yaml"
        outcome = checked.get(host_path)
        if outcome is None and host_path.is_file():
            outcome = _Checked(Target(host_path, host_path.as_posix(), "host", root))
        hosts[root] = outcome
    outcome = hosts[root]
    return outcome.document if outcome is not None and outcome.valid else None


def _rule_problems(
    doc: Document,
    target: Target,
    checked: dict[Path, _Checked],
    hosts: dict[Path, _Checked | None],
    org_ids: dict[Path, frozenset[str] | None],
) -> list[Problem]:
    from notifycfg.config import layering as compiler  # only files that reach the rules need layering

    layers = [compiler.Layer(compiler.DEFAULT_LAYER, schema.defaults())]
    if doc.kind == "org":
        host = _host_for(target, checked, hosts)
        if host is not None:
            layers.append(compiler.Layer("host", host.data))
    layers.append(compiler.Layer(doc.file, doc.data))
    known = doc.kind != "org" or len(layers) == 3  # without a valid host, effective values are unknown

    def effective_at(path: tuple) -> object:
        return compiler.merge_at(layers, schema.replaced_paths(), path) if known else None

    def known_orgs() -> frozenset[str] | None:
        if target.environment not in org_ids:
            org_ids[target.environment] = _org_ids(target.environment)
        return org_ids[target.environment]

    ctx = rules.Context(doc.kind, doc.data, effective_at, known_orgs)
    out = []
    for rule, finding in rules.run_checks(ctx):
        line, column = doc.locate(finding.path, at_key=finding.at_key)
        out.append(Problem(doc.file, line, column, dotted(finding.path), rule.id, rule.severity, finding.message))
    return out


def _org_ids(root: Path) -> frozenset[str] | None:
    folder = root / "orgs"
    if not folder.is_dir():
        return None
    return frozenset(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))
