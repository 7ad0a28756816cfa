"""Safe YAML loading: bytes -> plain data, plus positions on demand.

Safety is by construction: libyaml's safe loader (no tag builds an object),
bounded size, bounded nesting, bounded alias expansion, duplicate and
non-string keys refused. Positions are not recorded while loading: the common
case (no problems) never pays for them. `Document.locate` composes the node
tree only when a problem needs a line and column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from notifycfg.datapath import DataPath, Json, JsonObject

MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_VALUES = 10_000

_STR_TAG = "tag:yaml.org,2002:str"
# Tags the safe loader would build into bytes, sets or pair lists: not config data
# (`!!binary '***'` even decodes to nothing without a word). Refused as L011.
_NOT_PLAIN_DATA = frozenset(f"tag:yaml.org,2002:{name}" for name in ("binary", "set", "omap", "pairs", "value", "yaml"))
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TAG_NAMES = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
}


class LoadError(Exception):
    """A file that cannot be turned into data; carries rule id and position."""

    def __init__(self, rule: str, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.line = line
        self.column = column


def _mark_error(rule: str, message: str, mark: Any) -> LoadError:
    if mark is None:
        return LoadError(rule, message)
    return LoadError(rule, message, mark.line + 1, mark.column + 1)


class _StrictLoader(yaml.CSafeLoader):
    """libyaml's safe loader that refuses what would silently lose data."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):  # `!!map abc`
            raise yaml.constructor.ConstructorError(None, None, "this value cannot be read as !!map", node.start_mark)
        seen: dict[str, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR_TAG:
                raise _non_string_key(key_node)
            first = seen.get(key_node.value)
            if first is not None:
                raise _mark_error(
                    "L002",
                    f"duplicate key `{key_node.value}` (first set at line {first.line + 1}); YAML would silently keep only the last one",
                    key_node.start_mark,
                )
            seen[key_node.value] = key_node.start_mark
        return super().construct_mapping(node, deep)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # PyYAML's constructors trust the resolver: an explicit tag on a value that
        # does not fit it (`!!timestamp 2024-13-45`, `!!int abc`) raises whatever
        # the parsing code raises. Found by fuzzing; reported here with a position.
        if node.tag in _NOT_PLAIN_DATA:
            raise yaml.constructor.ConstructorError(
                None, None, f"could not determine a constructor for the tag '{node.tag}'", node.start_mark
            )
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError, UnicodeError):
            tag = node.tag.rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(None, None, f"this value cannot be read as !!{tag}", node.start_mark) from None


def _non_string_key(key_node: Node) -> LoadError:
    if isinstance(key_node, ScalarNode):
        kind = _TAG_NAMES.get(key_node.tag, f"tag {key_node.tag}")
        message = f'key `{key_node.value}` is read as {kind}, not a string: quote it ("{key_node.value}")'
    else:
        message = "a key must be a plain string, not a list or mapping"
    return _mark_error("L004", message, key_node.start_mark)


def _position_of(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of `offset` in `text`."""
    before = text[:offset]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def decode(raw: bytes) -> str:
    """Strict UTF-8 (a BOM is allowed) with the size bound applied first."""
    if len(raw) > MAX_FILE_BYTES:
        raise LoadError("L008", f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the bad byte is valid UTF-8: count columns in characters, as editors do.
        valid = raw[: exc.start].decode("utf-8")
        line, column = _position_of(valid, len(valid))
        raise LoadError("L007", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})", line, column) from None
    return text[1:] if text.startswith("\ufeff") else text


def _could_be_deep(text: str) -> bool:
    # Every nesting level needs a newline, a `-`, a `?` or a flow bracket, so
    # their count bounds the depth: most files never need the event scan.
    openers = sum(text.count(c) for c in "\n-?[{")
    return openers >= MAX_DEPTH


def _check_depth(text: str) -> None:
    # libyaml's composer recurses in C: very deep input would crash the
    # interpreter, so depth is measured on the event stream first.
    loader = _StrictLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _mark_error("L003", f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def _check_expansion(data: Any, text: str) -> None:
    """Refuse alias cycles and alias bombs (values counted as if expanded)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(value: Any) -> int:
        if not isinstance(value, (dict, list)):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise LoadError("L003", "an alias refers to its own parent (a cycle)", *_first_anchor(text))
        active.add(key)
        children = value.values() if isinstance(value, dict) else value
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_VALUES:
                raise LoadError(
                    "L003",
                    f"aliases expand to more than {MAX_VALUES:,} values (an alias bomb?)",
                    *_first_anchor(text),
                )
        active.discard(key)
        sizes[key] = total
        return total

    size(data)


def _first_anchor(text: str) -> tuple[int, int]:
    return _position_of(text, max(text.find("&"), 0))


class _Unusual(Exception):
    """Something the fast builder leaves to PyYAML's full constructor."""


_SAFE = yaml.SafeLoader("")
_PLAIN_BUILDERS: dict[str, Callable[[ScalarNode], Json]] = {
    "tag:yaml.org,2002:int": _SAFE.construct_yaml_int,
    "tag:yaml.org,2002:bool": _SAFE.construct_yaml_bool,
    "tag:yaml.org,2002:null": lambda node: None,
}


def _build(node: Node) -> Any:
    # Strings, mappings, lists, ints, booleans and nulls: nearly every config
    # file is made of nothing else, and building them directly from libyaml's
    # nodes costs two thirds of PyYAML's generic constructor.
    tag = node.tag
    if tag == _STR_TAG and isinstance(node, ScalarNode):
        return node.value
    if tag == "tag:yaml.org,2002:map" and isinstance(node, MappingNode):
        out = {}
        for key_node, value_node in node.value:
            if key_node.tag != _STR_TAG or key_node.value in out:
                raise _Unusual  # the strict loader says exactly what is wrong
            out[key_node.value] = _build(value_node)
        return out
    if tag == "tag:yaml.org,2002:seq" and isinstance(node, SequenceNode):
        return [_build(item) for item in node.value]
    builder = _PLAIN_BUILDERS.get(tag)
    if builder is None or not isinstance(node, ScalarNode):
        raise _Unusual
    try:
        return builder(node)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _Unusual from None  # an explicit `!!int abc`: the strict loader reports it


def _load(text: str) -> Any:
    if "&" not in text:  # no anchors: no aliases, cycles or merges to care about
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
        try:
            return None if node is None else _build(node)
        except _Unusual:
            pass
    return yaml.load(text, Loader=_StrictLoader)


def parse(text: str) -> Json:
    """YAML text -> plain data, or LoadError with a position."""
    try:
        if _could_be_deep(text):
            _check_depth(text)
        data = _load(text)
    except yaml.MarkedYAMLError as exc:
        raise _translate(exc) from None
    except yaml.YAMLError as exc:
        raise LoadError("L001", f"YAML error: {exc}") from None
    if "&" in text:
        _check_expansion(data, text)
    return data


def _translate(exc: yaml.MarkedYAMLError) -> LoadError:
    problem = exc.problem or "invalid YAML"
    if isinstance(exc, yaml.composer.ComposerError) and "another document" in problem:
        return _mark_error("L005", "more than one YAML document (`---`): put one document in each file", exc.problem_mark)
    if isinstance(exc, yaml.constructor.ConstructorError) and "could not determine a constructor" in problem:
        tag = problem.rsplit(" ", 1)[-1].strip("'")
        return _mark_error("L011", f"tag `{tag}` is not allowed: only plain YAML data", exc.problem_mark)
    if isinstance(exc, yaml.constructor.ConstructorError) and "cannot be read as" in problem:
        return _mark_error("L011", f"{problem} (remove the tag, or quote the value)", exc.problem_mark)
    if isinstance(exc, yaml.constructor.ConstructorError) and "unhashable key" in problem:
        return _mark_error("L004", "a key must be a plain string, not a list or mapping", exc.problem_mark)
    if "maximum nesting depth" in problem:  # newer libyaml has its own bound
        return _mark_error("L003", f"nested deeper than {MAX_DEPTH} levels", exc.problem_mark)
    context = f"{exc.context}: " if exc.context else ""
    return _mark_error("L001", f"YAML syntax error: {context}{problem}", exc.problem_mark)


@dataclass(eq=False)
class Document:
    """One loaded file: its data, and its text for positions on demand."""

    file: str
    kind: str
    data: JsonObject
    text: str = field(repr=False)
    raw: bytes = field(default=b"", repr=False)

    @cached_property
    def sha256(self) -> str:
        """Digest of the file's bytes, for manifests (hashlib is imported only when asked)."""
        import hashlib

        return hashlib.sha256(self.raw).hexdigest()

    @cached_property
    def _root(self) -> Node | None:
        return yaml.compose(self.text, Loader=yaml.CSafeLoader)

    def node_at(self, path: DataPath) -> tuple[Node | None, Node | None, int]:
        """(key node, value node, how many path parts were found)."""
        key: Node | None = None
        node = self._root
        for found, part in enumerate(path):
            child = _child(node, part)
            if child is None:
                return key, node, found
            key, node = child
        return key, node, len(path)

    def locate(self, path: DataPath, at_key: bool = False) -> tuple[int, int]:
        """1-based line and column of the value at `path` (or of its key)."""
        key, node, _ = self.node_at(path)
        target = key if at_key and key is not None else node
        if target is None:
            return 1, 1
        return target.start_mark.line + 1, target.start_mark.column + 1

    def scalar_source(self, path: DataPath) -> str | None:
        """The scalar exactly as written, when `path` is a plain scalar."""
        _, node, found = self.node_at(path)
        if found == len(path) and isinstance(node, ScalarNode) and not node.style:
            return str(node.value)
        return None


def _child(node: Node | None, part: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    if not isinstance(node, MappingNode):
        return None
    merged: list[Node] = []
    for key_node, value_node in reversed(node.value):
        if key_node.tag == _MERGE_TAG:
            merged.append(value_node)
        elif isinstance(key_node, ScalarNode) and key_node.value == part:
            return key_node, value_node
    for source in merged:
        sources = source.value if isinstance(source, SequenceNode) else [source]
        for mapping in sources:
            child = _child(mapping, part)
            if child is not None:
                return child
    return None


def load_document(file: str, kind: str, raw: bytes) -> Document:
    """Bytes of one config file -> Document; LoadError when it cannot be data."""
    text = decode(raw)
    data = parse(text)
    if data is None:
        data = {}  # an empty file, or comments only: no settings
    if not isinstance(data, dict):
        raise LoadError("L006", f"the top level must be a mapping of keys, not {_kind_of(data)}")
    return Document(file, kind, data, text, raw)


def _kind_of(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", int: "an integer", float: "a number"}.get(type(value), type(value).__name__)
