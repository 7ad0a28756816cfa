"""discover -> load -> schema -> rules -> ValidationResult (printing is elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from notifycfg.config import rules, schema
from notifycfg.config.discover import DISK, Refusal, Target, Tree, discover
from notifycfg.config.loader import MAX_FILE_BYTES, Document, LoadError, load_document
from notifycfg.config.problems import Problem, failing
from notifycfg.datapath import DataPath, dotted
from notifycfg.files import ReadRefused


@dataclass(frozen=True)
class ValidationResult:
    paths: tuple[str, ...]
    problems: tuple[Problem, ...]
    documents: dict[str, Document] = field(default_factory=dict, compare=False, repr=False)

    @property
    def files(self) -> int:
        return len(self.paths)

    def ok(self, strict: bool = False) -> bool:
        counted = failing(strict)
        return not any(p.severity in counted for p in self.problems)

    def error_lines(self) -> list[str]:
        """The errors, one `file:line:column: RULE message` line each: the details of a refusal."""
        return [p.line_text(severity=False) for p in self.problems if p.severity == "error"]

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)

    @property
    def notices(self) -> int:
        return sum(p.severity == "notice" for p in self.problems)


class _Checked:
    """One file's outcome: its document when it loaded, and whether the schema passed."""

    def __init__(self, target: Target, tree: Tree) -> None:
        self.problems: list[Problem] = []
        self.document: Document | None = None
        try:
            self.document = load_document(target.display, target.kind, tree.read(target.path, MAX_FILE_BYTES))
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


def validate(paths: list[str], documents: Mapping[Path, bytes | None] | None = None, relays: bool = True) -> ValidationResult:
    """Check files and environment directories. FileNotFoundError for a missing path.
    `relays`: with the relay catalogue's rules (M001-M004); `validate` runs them, other commands do not.

    `documents` lays in-memory files over the disk (path -> bytes; None: the file is gone),
    joined from the same root as `paths`: what promote and import would write is checked
    under its real name before anything is written.
    """
    tree = Tree(documents) if documents else DISK
    items = discover(paths, tree)
    checked: dict[Path, _Checked] = {}
    problems: list[Problem] = []
    for item in items:
        if isinstance(item, Refusal):
            problems.append(Problem(item.display, 1, 1, "", item.rule, "error", item.message))
            continue
        outcome = checked[item.path] = _Checked(item, tree)
        problems.extend(outcome.problems)
    seen = _Seen(tree, checked)
    for item in items:
        document = checked[item.path].document if isinstance(item, Target) and checked[item.path].valid else None
        if isinstance(item, Target) and document is not None:
            problems.extend(_rule_problems(document, item, seen, relays))
    loaded = {c.document.file: c.document for c in checked.values() if c.document is not None}
    return ValidationResult(tuple(item.display for item in items), tuple(sorted(problems)), loaded)


@dataclass
class _Seen:
    """What one validation run has read so far, shared by every file's rules: files may change
    between runs, never within one."""

    tree: Tree
    checked: dict[Path, _Checked]
    hosts: dict[Path, _Checked | None] = field(default_factory=dict)
    org_ids: dict[Path, frozenset[str] | None] = field(default_factory=dict)

    def host_for(self, target: Target) -> Document | None:
        root = target.environment
        if root not in self.hosts:
            host_path = root / "host.yaml"
            outcome = self.checked.get(host_path)
            if outcome is None and self.tree.present(host_path):
                outcome = _Checked(Target(host_path, host_path.as_posix(), "host", root), self.tree)
            self.hosts[root] = outcome
        outcome = self.hosts[root]
        return outcome.document if outcome is not None and outcome.valid else None

    def senders_of(self, target: Target) -> rules.Senders | None:
        """Each organization's effective relay and From domain, when every organization was validated in this run."""
        from notifycfg.config import layering as compiler

        root, ids, host = target.environment, self.orgs_of(target.environment), self.host_for(target)
        if ids is None or host is None:
            return None
        relays, domains = set(), set()
        for org in ids:
            outcome = self.checked.get(root / "orgs" / f"{org}.yaml")
            if outcome is None or not outcome.valid or outcome.document is None:
                return None
            layers = [compiler.Layer(compiler.DEFAULT_LAYER, schema.defaults()), compiler.Layer("host", host.data)]
            layers.append(compiler.Layer(outcome.document.file, outcome.document.data))
            relays.add(str(compiler.merge_at(layers, schema.replaced_paths(), ("email", "smtp", "host"))))
            address = str(compiler.merge_at(layers, schema.replaced_paths(), ("email", "from", "address")))
            domains.add(address.rpartition("@")[2].lower())
        return rules.Senders(frozenset(relays), frozenset(domains))

    def orgs_of(self, root: Path) -> frozenset[str] | None:
        if root not in self.org_ids:
            folder = root / "orgs"
            found = None
            if self.tree.is_dir(folder):
                found = frozenset(name[: -len(".yaml")] for name, _ in self.tree.entries(folder) if name.endswith(".yaml"))
            self.org_ids[root] = found
        return self.org_ids[root]


def _rule_problems(doc: Document, target: Target, seen: _Seen, relays: bool = True) -> list[Problem]:
    from notifycfg.config import layering as compiler  # only files that reach the rules need layering

    layers = [compiler.Layer(compiler.DEFAULT_LAYER, schema.defaults())]
    if doc.kind == "org":
        host = seen.host_for(target)
        if host is not None:
            layers.append(compiler.Layer("host", host.data))
    layers.append(compiler.Layer(doc.file, doc.data))
    known = doc.kind != "org" or len(layers) == 3  # without a valid host, effective values are unknown

    def effective_at(path: DataPath) -> object:
        return compiler.merge_at(layers, schema.replaced_paths(), path) if known else None

    ctx = rules.Context(doc.kind, doc.data, effective_at, lambda: seen.orgs_of(target.environment), lambda: seen.senders_of(target))
    out = []
    for rule, finding in rules.run_checks(ctx, relays):
        line, column = doc.locate(finding.path, at_key=finding.at_key)
        severity = finding.severity or rule.severity
        out.append(Problem(doc.file, line, column, dotted(finding.path), rule.id, severity, finding.message))
    return out
