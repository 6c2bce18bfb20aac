"""YAML text -> plain Python values that remember their line numbers.

Uses PyYAML's compose API (every node carries a ``start_mark``) instead of
``safe_load``, so each mapping key, list item and string knows where it was
written. Mappings become ``YMap`` (a dict with ``line`` and ``key_lines``),
sequences ``YList`` (a list with ``line`` and ``item_lines``), strings ``YStr``
(a str with ``line`` and ``column``). Other scalars are the usual Python values.
Duplicate keys (which ``safe_load`` silently collapses) are reported.
Malformed YAML becomes a ``Diagnostic`` with its line, never an exception.
"""

from __future__ import annotations

import yaml

from provision.diagnostics import ERROR, Diagnostic, caret_line

_Loader: type[yaml.SafeLoader | yaml.CSafeLoader]
try:  # libyaml keeps marks too and is several times faster
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML build
    _Loader = yaml.SafeLoader

SOURCE_YAML = "YAML 1.1 (PyYAML)"


class YStr(str):
    """A string from the file, with its 1-based line and column.

    ``block`` is True for literal/folded block scalars (``|``/``>``), whose text
    starts on the line after ``line``.
    """

    line: int | None = None
    column: int | None = None
    block: bool = False
    style: str | None = None  # YAML scalar style: '' plain, "'", '"', '|', '>' (None when not from the file)
    end: tuple[int, int] | None = None  # 1-based (line, column) just after the scalar

    @classmethod
    def at(cls, text: str, line: int | None, column: int | None = None, block: bool = False,
           style: str | None = None, end: tuple[int, int] | None = None) -> YStr:
        value = cls(text)
        value.line, value.column, value.block, value.style, value.end = line, column, block, style, end
        return value


class YMap(dict):
    """A mapping from the file: ``line`` of the mapping, ``key_lines[key]`` of each key."""

    def __init__(self, *args, line: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line
        self.key_lines: dict = {}

    def line_of(self, key, default: int | None = None) -> int | None:
        return self.key_lines.get(key, default if default is not None else self.line)


class YList(list):
    """A sequence from the file: ``line`` of the sequence, ``item_lines[i]`` of each item."""

    def __init__(self, *args, line: int | None = None):
        super().__init__(*args)
        self.line = line
        self.item_lines: list[int] = []


def line_of(value, default: int | None = None) -> int | None:
    """The line a value was written on, when it knows it."""
    return getattr(value, "line", None) or default


def parse_yaml(text: str, file: str | None = None) -> tuple[object, list[Diagnostic]]:
    """Parse ``text``; returns (value, diagnostics). The value is None on a syntax error."""
    diagnostics: list[Diagnostic] = []
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        if error.context_mark is not None and mark is not None and mark.line >= len(text.rstrip("\n").splitlines()):
            mark = error.context_mark  # hit the end of the file: point at what was left open instead
        problem = " ".join(p for p in (error.context, error.problem) if p) or "malformed YAML"
        excerpt = None
        if mark is not None and mark.line < len(text.splitlines()):
            excerpt = caret_line(text.splitlines()[mark.line], mark.column + 1)
        diagnostics.append(
            Diagnostic(
                ERROR,
                "YamlSyntax",
                f"the file is not valid YAML: {problem}",
                fix="fix the YAML syntax at this line (indentation, a missing ':' or an unclosed quote are the usual causes)",
                file=file,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
                excerpt=excerpt,
                source=SOURCE_YAML,
            )
        )
        return None, diagnostics
    except yaml.reader.ReaderError as error:  # a character YAML does not allow (NUL, other control characters)
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        character = error.character if isinstance(error.character, int) else ord(str(error.character)[:1] or "\0")
        source_line = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
        diagnostics.append(Diagnostic(
            ERROR, "YamlSyntax", f"the file holds the character U+{character:04X}, which YAML does not allow ({error.reason})",
            fix="remove it (control characters other than tab and line breaks cannot be in a YAML file)", file=file,
            line=line, column=column, excerpt=caret_line(source_line, column), source=SOURCE_YAML))
        return None, diagnostics
    except yaml.YAMLError as error:
        diagnostics.append(
            Diagnostic(ERROR, "YamlSyntax", f"the file is not valid YAML: {error}", fix="fix the YAML syntax", file=file, source=SOURCE_YAML)
        )
        return None, diagnostics
    if node is None:
        return None, diagnostics
    constructor = yaml.SafeLoader("")  # only its scalar constructors are used
    budget = _Budget()
    try:
        return _build(node, constructor, diagnostics, file, budget), diagnostics
    except _TooBig as problem:
        diagnostics.append(Diagnostic(ERROR, "YamlTooComplex", str(problem), fix=problem.fix, file=file, line=problem.line, source=SOURCE_YAML))
        return None, diagnostics


MAX_VALUES = 200_000  # a 500-column table is ~1,000 values; this only stops alias bombs (&a [*b, *b, ...])
MAX_DEPTH = 64  # scenario files nest about 6 deep


class _TooBig(Exception):
    def __init__(self, message: str, line: int, fix: str):
        super().__init__(message)
        self.line, self.fix = line, fix


class _Budget:
    """Guards the walk over the node graph: aliases may repeat (or contain) a node, so a small file can expand forever."""

    def __init__(self):
        self.values = 0
        self.open: set[int] = set()  # nodes being built (an alias to one of them is a cycle)
        self.seen: set[int] = set()
        self.aliased = False  # a node was reached twice: the file uses *aliases

    def enter(self, node, depth: int) -> None:
        line = node.start_mark.line + 1
        self.values += 1
        if id(node) in self.seen:
            self.aliased = True
        self.seen.add(id(node))
        if self.values > MAX_VALUES:
            if self.aliased:
                raise _TooBig(f"the file expands to more than {MAX_VALUES:,} values (YAML aliases repeating anchors)", line,
                              "write the values out, or use fewer nested &anchor/*alias references")
            raise _TooBig(f"the file holds more than {MAX_VALUES:,} values; a scenario holds a few thousand", line,
                          "split it into smaller scenarios")
        if id(node) in self.open:
            raise _TooBig("a YAML alias refers to a mapping or list that contains it (an endless value)", line, "remove the *alias from inside its own &anchor")
        if depth > MAX_DEPTH:
            raise _TooBig(f"values are nested more than {MAX_DEPTH} levels deep", line, "flatten the structure: scenario files nest a few levels only")


def _flatten(constructor, node, diagnostics: list[Diagnostic], file: str | None) -> None:
    """Apply ``<<`` merge keys; a bad one (``<<: text``) is reported and dropped (PyYAML deletes it before raising)."""
    for _ in range(len(node.value) + 1):
        try:
            constructor.flatten_mapping(node)
            return
        except yaml.constructor.ConstructorError as error:
            mark = error.problem_mark or node.start_mark
            diagnostics.append(Diagnostic(ERROR, "YamlMerge", f"a merge key '<<' {(error.problem or '').replace('expected', 'needs').replace(' for merging', '')}",
                                          fix="write '<<: *anchor' (an anchored mapping) or remove the '<<' line", file=file,
                                          line=mark.line + 1, column=mark.column + 1, source=SOURCE_YAML))


def _build(node, constructor, diagnostics: list[Diagnostic], file: str | None, budget: _Budget | None = None, depth: int = 0):
    budget = budget or _Budget()
    budget.enter(node, depth)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        budget.open.add(id(node))
        try:
            return _build_collection(node, constructor, diagnostics, file, budget, depth)
        finally:
            budget.open.discard(id(node))
    return _build_collection(node, constructor, diagnostics, file, budget, depth)


_PLAIN_TAGS = {yaml.MappingNode: "tag:yaml.org,2002:map", yaml.SequenceNode: "tag:yaml.org,2002:seq"}
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _build_collection(node, constructor, diagnostics: list[Diagnostic], file: str | None, budget: _Budget, depth: int):
    line = node.start_mark.line + 1
    plain_tag = _PLAIN_TAGS.get(type(node))
    if plain_tag is not None and node.tag != plain_tag:
        # e.g. `tables: !!python/object/new:os.system` on a mapping: the safe loader would ignore it silently
        diagnostics.append(Diagnostic(ERROR, "YamlTag", f"cannot read the {'mapping' if isinstance(node, yaml.MappingNode) else 'list'} "
                                      f"tagged {node.tag.replace('tag:yaml.org,2002:', '!!')}",
                                      fix="remove the tag: scenario files hold plain text, numbers, lists and mappings", file=file, line=line,
                                      column=node.start_mark.column + 1, source=SOURCE_YAML))
    if isinstance(node, yaml.MappingNode):
        result = YMap(line=line)
        explicit = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
        _flatten(constructor, node, diagnostics, file)  # merge keys (<<: *anchor): merged pairs first, then the explicit ones
        first_explicit = len(node.value) - explicit
        merged: set = set()  # keys that came from a merge: an explicit key (or a later merge) may override them
        for index, (key_node, value_node) in enumerate(node.value):
            key_line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode):
                # keys are names as written: a column called On, No or 1 stays a string (YAML 1.1 would make it a bool/int)
                key = YStr.at(key_node.value, key_line, key_node.start_mark.column + 1)
            else:
                key = _build(key_node, constructor, diagnostics, file, budget, depth + 1)
            if isinstance(key, (YMap, YList)):
                diagnostics.append(Diagnostic(ERROR, "YamlKey", "a mapping key must be a plain value", fix="use a string key", file=file, line=key_line, source=SOURCE_YAML))
                continue
            if key in merged:
                merged.discard(key)  # YAML merge semantics: an explicit key overrides a merged one
            elif key in result:
                diagnostics.append(
                    Diagnostic(
                        ERROR,
                        "DuplicateKey",
                        f"key '{key}' appears twice in this mapping (first on line {result.key_lines[key]})",
                        fix="remove or rename one of them: YAML keeps only the last one",
                        file=file,
                        line=key_line,
                        source=SOURCE_YAML,
                    )
                )
            if index < first_explicit:
                merged.add(key)
            result[key] = _build(value_node, constructor, diagnostics, file, budget, depth + 1)
            result.key_lines[key] = key_line
        return result
    if isinstance(node, yaml.SequenceNode):
        items = YList(line=line)
        for item in node.value:
            items.append(_build(item, constructor, diagnostics, file, budget, depth + 1))
            items.item_lines.append(item.start_mark.line + 1)
        return items
    try:
        value = constructor.construct_object(node)
    except Exception as error:
        if node.style in ("", None) and constructor.resolve(yaml.ScalarNode, node.value, (True, False)) == node.tag:
            # an untagged value that only looks like a date or number (2024-13-45): it is text
            return YStr.at(node.value, line, node.start_mark.column + 1, False, "", (node.end_mark.line + 1, node.end_mark.column + 1))
        # an explicit tag the safe loader does not know (!!python/object, !custom) or cannot apply (!!int abc)
        reason = (getattr(error, "problem", None) or str(error)) if isinstance(error, (yaml.YAMLError, ValueError)) else f"'{node.value}' is not such a value"
        diagnostics.append(Diagnostic(ERROR, "YamlTag", f"cannot read the value tagged {node.tag.replace('tag:yaml.org,2002:', '!!')}: {reason}",
                                      fix="remove the tag: scenario files hold plain text, numbers, lists and mappings", file=file, line=line,
                                      column=node.start_mark.column + 1, source=SOURCE_YAML))
        return YStr.at(node.value, line, node.start_mark.column + 1)
    if isinstance(value, bytes):
        diagnostics.append(Diagnostic(ERROR, "YamlTag", "binary (!!binary) values are not supported", fix="write the value as text",
                                      file=file, line=line, column=node.start_mark.column + 1, source=SOURCE_YAML))
        return YStr.at(node.value, line, node.start_mark.column + 1)
    if isinstance(value, str):
        block = node.style in ("|", ">")
        end = (node.end_mark.line + 1, node.end_mark.column + 1)
        return YStr.at(value, line, node.start_mark.column + 1, block, node.style or "", end)
    return value
