"""A rulebook file as text: its name (``rulebook.v<N>.yaml``), its YAML parsed with the
marks of every node and no key given twice, and the line of each node by its path, so
that every error can name a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.rulebook.errors import RulebookError

_FILE_NAME = re.compile(r"^rulebook\.v([1-9][0-9]*)\.yaml$")


def file_version(path: Path) -> int:
    """The ``N`` of a file named ``rulebook.v<N>.yaml``.

    Raises:
        RulebookError: The file is named otherwise.
    """
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise RulebookError(
            path, 1, "a rulebook file must be named rulebook.v<N>.yaml, N its version"
        )
    return int(match.group(1))


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that keeps node marks and rejects duplicate mapping keys."""


def compose(path: Path, text: str) -> tuple[Node, Any]:
    """The root node (with the marks of every node) and the data of a rulebook's YAML.

    Raises:
        RulebookError: The file is empty, is not valid YAML, or repeats a key.
    """
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise RulebookError(path, 1, "the file is empty")
        _check_duplicate_keys(path, node)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or str(exc)
        if exc.context and exc.context_mark is not None:
            # Where the unclosed construct began is often where the mistake is.
            reason += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        raise RulebookError(path, line, f"invalid YAML: {reason}") from exc
    except yaml.YAMLError as exc:
        raise RulebookError(path, 1, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return node, data


def _check_duplicate_keys(path: Path, node: Node) -> None:
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                if key.value in seen:
                    raise RulebookError(
                        path, key.start_mark.line + 1, f"duplicate key {key.value!r}"
                    )
                seen.add(key.value)
            _check_duplicate_keys(path, value)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _check_duplicate_keys(path, item)


class Lines:
    """Finds the line of a node by its path (keys and list indexes) in the YAML."""

    def __init__(self, root: Node) -> None:
        self.root = root

    def _walk(self, path: tuple[Any, ...]) -> Iterator[tuple[Node | None, Node]]:
        """Yields (key node or None, value node) for each step that exists."""
        node = self.root
        yield None, node
        for part in path:
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    if isinstance(key, ScalarNode) and key.value == str(part):
                        node = value
                        yield key, value
                        break
                else:
                    return
            elif isinstance(node, SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    return
                node = node.value[part]
                yield None, node
            else:
                return

    def line(self, path: tuple[Any, ...] | list[Any]) -> int:
        """The 1-based line of the deepest existing node on ``path`` (its key if any)."""
        key, value = list(self._walk(tuple(path)))[-1]
        mark = (key if key is not None else value).start_mark
        return mark.line + 1

    def key_line(self, path: tuple[Any, ...] | list[Any], key_name: str) -> int:
        """The line of key ``key_name`` inside the mapping at ``path``."""
        _, node = list(self._walk(tuple(path)))[-1]
        if isinstance(node, MappingNode):
            for key, _ in node.value:
                if isinstance(key, ScalarNode) and key.value == str(key_name):
                    return key.start_mark.line + 1
        return self.line(path)
