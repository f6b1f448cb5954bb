"""A small HTML tree for the page tests (the standard library's parser; no extra dependency):
find an element, its enclosing form field block, and the errors shown there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def find_all(self, match: Callable[[Node], bool]) -> list[Node]:
        return [node for node in self.walk() if match(node)]

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join(" ".join(parts).split())

    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#root", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), parent=self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    return builder.root


def named(root: Node, name: str, value: str | None = None) -> Node:
    """The one form control called ``name`` (with this ``value``, for radio buttons)."""
    found = root.find_all(lambda n: n.attrs.get("name") == name and (value is None or n.attrs.get("value") == value))
    assert len(found) == 1, (name, value, len(found))
    return found[0]


def field_errors(html: str, name: str) -> list[str]:
    """The error messages shown in the field block around the control ``name``."""
    node: Node | None = parse(html).find_all(lambda n: n.attrs.get("name") == name)[0]
    while node is not None and "field" not in node.classes():
        node = node.parent
    assert node is not None, f"{name} is not inside a field block"
    lists = node.find_all(lambda n: "errorlist" in n.classes())
    return [li.text() for errors in lists for li in errors.find_all(lambda n: n.tag == "li")]


def selected_option(root: Node, name: str) -> str | None:
    select = named(root, name)
    chosen = select.find_all(lambda n: n.tag == "option" and "selected" in n.attrs)
    return chosen[0].attrs.get("value") if chosen else None
