"""The Simplified Chinese catalog is complete: no message left untranslated or fuzzy.

The catalog is brought up to date with ``make messages`` and translated before a change
lands; this test says which messages are missing, so it fails until that is done."""

from __future__ import annotations

from pathlib import Path

CATALOG = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _unquote(line: str) -> str:
    text = line.split(" ", 1)[1] if line.startswith("msg") else line
    return text.strip()[1:-1].encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def catalog_entries(text: str) -> list[dict[str, object]]:
    """The entries of a .po file: msgid, the msgstr (all plural forms), fuzzy or not; the
    header (empty msgid) and obsolete entries (#~) left out."""
    entries: list[dict[str, object]] = []
    for block in text.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        if not lines:
            continue
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, str] = {}
        current = ""
        for line in lines:
            if line.startswith("#"):
                continue
            if line.startswith("msg"):
                current = line.split(" ", 1)[0]
                fields[current] = _unquote(line)
            elif line.startswith('"') and current:
                fields[current] += _unquote(line)
        if not fields.get("msgid"):
            continue
        strings = [value for key, value in fields.items() if key.startswith("msgstr")]
        entries.append({"msgid": fields["msgid"], "msgstr": strings, "fuzzy": fuzzy})
    return entries


def test_the_reader_finds_untranslated_and_fuzzy_entries():
    sample = (
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        'msgid "Lookup"\nmsgstr "查询"\n\n'
        'msgid "Uploads"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Entry"\nmsgstr "条目"\n\n'
        'msgid "%(n)s day"\nmsgid_plural "%(n)s days"\nmsgstr[0] ""\n\n'
        '#~ msgid "Old"\n#~ msgstr ""\n'
    )
    entries = catalog_entries(sample)
    assert [e["msgid"] for e in entries] == ["Lookup", "Uploads", "Entry", "%(n)s day"]
    assert [e["msgid"] for e in entries if e["fuzzy"] or not all(e["msgstr"])] == [  # type: ignore[arg-type]
        "Uploads",
        "Entry",
        "%(n)s day",
    ]


def test_every_message_is_translated_into_simplified_chinese():
    entries = catalog_entries(CATALOG.read_text(encoding="utf-8"))
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]  # type: ignore[arg-type]
    fuzzy = [e["msgid"] for e in entries if e["fuzzy"]]
    assert not untranslated, f"{len(untranslated)} untranslated messages, e.g. {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy messages, e.g. {fuzzy[:10]}"
