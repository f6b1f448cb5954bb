"""Helpers shared by the member portal page tests (this module holds no tests of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from lenders.models import Region
from registry.models import LookupRecord
from tests.registry.helpers import current_key


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.forms: list[list[Element]] = []
        self._form: list[Element] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag == "form":
            self._form = [element]
            self.forms.append(self._form)
        elif self._form is not None:
            self._form.append(element)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def elements(html: str, *tags: str) -> list[Element]:
    """Every start tag of these kinds in the page, with its attributes."""
    collector = _Collector()
    collector.feed(html)
    return [e for e in collector.elements if e.tag in tags]


def subject_form_field_names(html: str) -> set[str]:
    """The names of every field the page's form with a raw-number field would submit."""
    collector = _Collector()
    collector.feed(html)
    forms = [form for form in collector.forms if "data-subject-form" in form[0].attrs]
    assert len(forms) == 1, forms
    fields = [e for e in forms[0][1:] if e.tag in ("input", "select", "textarea", "button")]
    return {str(e.attrs["name"]) for e in fields if e.attrs.get("name")}


def raw_number_inputs(html: str) -> list[Element]:
    return [e for e in elements(html, "input") if "data-raw-number" in e.attrs]


def lookup_records(region: Region) -> list[LookupRecord]:
    return list(LookupRecord.objects.filter(region=region).order_by("created_at"))


def current_key_id(region: Region) -> str:
    return current_key(region).key_id
