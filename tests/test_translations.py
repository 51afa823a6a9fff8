"""The Bahasa Indonesia catalogs: complete, not fuzzy, placeholders kept, and compiled .mo files up to date.

Bahasa Indonesia is the site's default language, so an untranslated or stale string shows up in English (or,
with a lost placeholder, breaks at run time). The .po files are parsed here by a small parser of their own
so that the check does not depend on gettext tools being installed.
"""

from __future__ import annotations

import gettext
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

from lapor.reports.choices import Status

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "src" / "lapor"
CATALOGS = sorted(PACKAGE_DIR.glob("**/locale/id/LC_MESSAGES/django.po"))

# %(name)s with any flags, width and precision; unnamed %s, %d, %.1f ... (no space flag, so that "75% of" in
# a plain label is not taken for "% o"); str.format fields {name}, {0}, {}, {name!r:>10}.
PLACEHOLDER = re.compile(
    r"%\(\w+\)[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|%[#0+-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|\{\w*(?:![rsa])?(?::[^{}]*)?\}"
)
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
CONTEXT_SEPARATOR = "\x04"


@dataclass
class Entry:
    line: int
    fields: dict[str, str] = field(default_factory=dict)  # msgctxt, msgid, msgid_plural, msgstr, msgstr[n]
    flags: set[str] = field(default_factory=set)

    @property
    def msgctxt(self) -> str | None:
        return self.fields.get("msgctxt")

    @property
    def msgid(self) -> str | None:
        return self.fields.get("msgid")

    @property
    def msgid_plural(self) -> str | None:
        return self.fields.get("msgid_plural")

    @property
    def msgstr(self) -> dict[int, str]:
        return {int(name[7:-1] or 0): text for name, text in self.fields.items() if name.startswith("msgstr")}

    @property
    def key(self) -> str:
        assert self.msgid is not None
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}{CONTEXT_SEPARATOR}{self.msgid}"

    def __str__(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def unquote(text: str, where: str) -> str:
    """The value of one C-style quoted PO string."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{where}: not a quoted string: {text}")
    body = text[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            index += 1
            if index >= len(body) or body[index] not in ESCAPES:
                raise ValueError(f"{where}: bad escape in {text}")
            out.append(ESCAPES[body[index]])
        elif char == '"':
            raise ValueError(f"{where}: unescaped quote in {text}")
        else:
            out.append(char)
        index += 1
    return "".join(out)


def parse_po(path: Path) -> list[Entry]:
    """Every entry of a .po file, the header (msgid "") first; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    current = Entry(line=1)
    target: str | None = None  # the field that continuation lines extend
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line, where = raw.strip(), f"{path}:{number}"
        if line.startswith('"'):
            if target is None:
                raise ValueError(f"{where}: string outside an entry")
            current.fields[target] += unquote(line, where)
            continue
        keyword, _, rest = line.partition(" ")
        starts_entry = line.startswith("#") or keyword in {"msgctxt", "msgid"}
        if starts_entry and current.msgid is not None:
            entries.append(current)
            current = Entry(line=number)
        target = None
        if not line or line.startswith("#"):  # blank lines, comments, obsolete entries
            if line.startswith("#,"):
                current.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if not re.fullmatch(r"msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?", keyword):
            raise ValueError(f"{where}: cannot parse {raw!r}")
        if keyword == "msgid":
            current.line = number
        current.fields[keyword] = unquote(rest, where)
        target = keyword
    if current.msgid is not None:
        entries.append(current)
    return entries


def read_mo_keys(path: Path) -> set[str]:
    """The original strings (msgids, with their contexts) stored in a compiled .mo file."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _revision, count, originals_offset = struct.unpack(f"{order}3I", data[4:16])
    keys: set[str] = set()
    for index in range(count):
        length, offset = struct.unpack(
            f"{order}2I", data[originals_offset + 8 * index : originals_offset + 8 * index + 8]
        )
        original = data[offset : offset + length].decode("utf-8")
        keys.add(original.split("\x00")[0])  # a plural entry stores "singular\0plural"
    return keys


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


def catalog_id(path: Path) -> str:
    return str(path.relative_to(PACKAGE_DIR))


def test_catalogs_exist() -> None:
    assert PACKAGE_DIR / "locale" / "id" / "LC_MESSAGES" / "django.po" in CATALOGS


@pytest.fixture(params=CATALOGS, ids=catalog_id)
def catalog(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def test_header(catalog: Path) -> None:
    header = parse_po(catalog)[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert fields["Language"] == "id"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == "nplurals=1; plural=0;"


def test_every_entry_is_translated_and_not_fuzzy(catalog: Path) -> None:
    entries = parse_po(catalog)[1:]
    assert entries
    untranslated = [str(entry) for entry in entries if not entry.msgstr.get(0)]
    fuzzy = [str(entry) for entry in entries if "fuzzy" in entry.flags]
    # Indonesian has one plural form: msgstr[0] serves every number, and a msgstr[1] would be an error.
    extra_forms = [str(entry) for entry in entries if set(entry.msgstr) != {0}]
    assert untranslated == []
    assert fuzzy == []
    assert extra_forms == []


def test_no_duplicate_entries(catalog: Path) -> None:
    keys = Counter(entry.key for entry in parse_po(catalog)[1:])
    assert [key for key, count in keys.items() if count > 1] == []


def test_placeholders_and_markup_are_kept(catalog: Path) -> None:
    problems: list[str] = []
    for entry in parse_po(catalog)[1:]:
        assert entry.msgid is not None
        source = entry.msgid_plural if entry.msgid_plural is not None else entry.msgid
        for translated in entry.msgstr.values():
            if placeholders(translated) != placeholders(source):
                problems.append(f"{entry}: placeholders {placeholders(translated)} != {placeholders(source)}")
            if Counter(HTML_TAG.findall(translated)) != Counter(HTML_TAG.findall(source)):
                problems.append(f"{entry}: HTML tags differ")
            for edge in ("\n", " "):
                if source.startswith(edge) != translated.startswith(edge):
                    problems.append(f"{entry}: leading {edge!r} differs")
                if source.endswith(edge) != translated.endswith(edge):
                    problems.append(f"{entry}: trailing {edge!r} differs")
    assert problems == []


def test_compiled_catalog_matches(catalog: Path) -> None:
    compiled = catalog.with_suffix(".mo")
    assert compiled.exists(), f"compile {catalog} with msgfmt"
    entries = parse_po(catalog)[1:]
    assert read_mo_keys(compiled) == {"", *(entry.key for entry in entries)}
    with compiled.open("rb") as stream:
        translations = gettext.GNUTranslations(stream)
    assert translations.info()["language"] == "id"
    stale: list[str] = []
    for entry in entries:
        assert entry.msgid is not None
        expected = entry.msgstr[0]
        if entry.msgid_plural is not None:
            found = [
                translations.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, count)
                if entry.msgctxt is not None
                else translations.ngettext(entry.msgid, entry.msgid_plural, count)
                for count in (1, 2, 5)
            ]
        elif entry.msgctxt is not None:
            found = [translations.pgettext(entry.msgctxt, entry.msgid)]
        else:
            found = [translations.gettext(entry.msgid)]
        if any(text != expected for text in found):
            stale.append(f"{entry}: .mo has {found!r}, .po has {expected!r}")
    assert stale == []


def test_parser_reads_multiline_plural_and_context_entries(tmp_path: Path) -> None:
    source = tmp_path / "django.po"
    source.write_text(
        'msgid ""\nmsgstr ""\n"Language: id\\n"\n\n'
        '#, fuzzy, python-format\nmsgid ""\n"%(count)d file "\n"\\"a\\"\\n"\n'
        'msgid_plural "%(count)d files"\nmsgstr[0] ""\n"%(count)d berkas"\n\n'
        'msgctxt "date"\nmsgid "l j F Y"\nmsgstr "l, j F Y"\n\n#~ msgid "gone"\n#~ msgstr "hilang"\n',
        encoding="utf-8",
    )
    header, plural, dated = parse_po(source)
    assert header.msgstr == {0: "Language: id\n"}
    assert plural.msgid == '%(count)d file "a"\n'
    assert plural.msgid_plural == "%(count)d files"
    assert plural.msgstr == {0: "%(count)d berkas"}
    assert plural.flags == {"fuzzy", "python-format"}
    assert dated.key == "date\x04l j F Y"
    assert placeholders("%(a)s %(b)-16s %(c).1f %d {x} {0!r:>3} 75% of 100%% done") == Counter(
        ["%(a)s", "%(b)-16s", "%(c).1f", "%d", "{x}", "{0!r:>3}"]
    )


def test_status_labels_follow_the_language() -> None:
    with translation.override("id"):
        assert str(Status.SUBMITTED.label) == "Belum Terverifikasi"
        assert translation.gettext("Skip to content") == "Lompat ke konten"
    with translation.override("en"):
        assert str(Status.SUBMITTED.label) == "Unverified"
