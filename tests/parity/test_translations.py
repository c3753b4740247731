"""Every string a user sees is translatable, and every interface language has all of them.

Two nets: a scan of every template for visible text outside ``{% trans %}``/``{% blocktrans %}``
(text nodes and the attributes people read: placeholder, title, alt, aria-label, button values),
and a fresh ``makemessages`` run compared with the committed catalogues (each msgid present,
translated, not fuzzy, placeholders kept, and the committed ``.mo`` compiled from that ``.po``).
"""
from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.test import override_settings

ROOT = Path(settings.BASE_DIR)
LOCALES = [code for code, _ in settings.LANGUAGES if code != "en"]
# Folders that hold no interface code (everything else at the top level is scanned, new apps included).
NOT_CODE = {"tests", "benchmarks", "docs", "locale", "static", "staticfiles", "var", "build", "node_modules"}
# Attributes whose values are read by people (or read out by screen readers).
READ_ATTRIBUTES = {"placeholder", "title", "alt", "aria-label", "aria-description", "label"}
# Names and symbols that are the same in every language.
UNTRANSLATED = {"Parity", "macro-F1", "α", "κ", "v", "s", "#", "×"}
HOLE = "\x00"  # where a variable or a translated string stood


def code_folders() -> list[Path]:
    return sorted(p for p in ROOT.iterdir() if p.is_dir() and p.name not in NOT_CODE and not p.name.startswith("."))


def templates() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html"))
    for folder in code_folders():
        found += sorted(p for p in folder.rglob("templates/**/*.html"))
    return sorted(set(found))


def _flatten(source: str) -> str:
    """The template with variables and translated strings replaced by a hole, other tags removed,
    and the inside of blocktrans dropped (it is translated as a whole)."""
    out, depth = [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if name in ("blocktrans", "blocktranslate"):
                depth += 1
                out.append(HOLE)
            elif name in ("endblocktrans", "endblocktranslate"):
                depth -= 1
            elif name in ("trans", "translate"):
                out.append(HOLE)
            else:
                out.append(" " if depth == 0 else "")
        elif depth:
            continue
        elif token.token_type == TokenType.VAR:
            out.append(HOLE)
        elif token.token_type == TokenType.TEXT:
            out.append(token.contents)
    return "".join(out)


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attributes = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and attributes.get("type") in ("submit", "button", "reset"))
            if readable and value:
                self.found.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def untranslated_text(source: str) -> list[str]:
    """Pieces of visible text in a template that no translation tag covers."""
    parser = _VisibleText()
    parser.feed(_flatten(source))
    problems = []
    for text in parser.found:
        words = [w for w in re.split(r"[\s\x00]+", text) if w]
        words = [w.strip(".,:;·—–-()[]/|+−%!?…“”\"'") for w in words]
        if any(re.search(r"[^\W\d_]{2,}", w) and w not in UNTRANSLATED for w in words):
            problems.append(" ".join(text.replace(HOLE, "{…}").split()))
    return problems


def test_the_scanner_catches_what_it_must():
    assert untranslated_text("<p>Hello {{ name }}</p>") == ["Hello {…}"]
    assert untranslated_text('<input placeholder="Reason">') == ["Reason"]
    assert untranslated_text('{% load i18n %}<p>{% trans "Hello" %}, {{ name }}. 12 · 3%</p>') == []
    assert untranslated_text("{% blocktrans %}Hello {{ n }}{% endblocktrans %}<script>var a = 'x y';</script>") == []
    assert untranslated_text("<h1>Parity</h1><td>v{{ v }}</td><td>{{ a }} s</td>") == []


@pytest.mark.parametrize("template", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_text_is_translatable(template):
    assert untranslated_text(template.read_text(encoding="utf-8")) == [], (
        f"{template.relative_to(ROOT)} shows text outside {{% trans %}}: wrap it and run `make messages`")


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\([a-z_0-9]+\)[sd]|%[sd]|\{[a-z_0-9]*\}", text))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogue ``makemessages`` builds from the code now (needs GNU gettext's xgettext)."""
    if not shutil.which("xgettext"):
        if os.environ.get("CI"):
            pytest.fail("xgettext (GNU gettext) is missing in CI")
        pytest.skip("xgettext (GNU gettext) is not installed: apt-get install gettext")
    # makemessages writes next to the sources it finds (into ./locale when run from the project), so it
    # runs on a copy of the code: the committed catalogues are never touched by the test.
    tree = tmp_path_factory.mktemp("tree")
    for folder in code_folders():
        shutil.copytree(folder, tree / folder.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (tree / "locale").mkdir()
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        with override_settings(LOCALE_PATHS=[str(tree / "locale")]):
            call_command("makemessages", locale=["fr"], verbosity=0, **MAKEMESSAGES_OPTIONS)
    finally:
        os.chdir(cwd)
    return polib.pofile(str(tree / "locale" / "fr" / "LC_MESSAGES" / "django.po"))


# The same options as the Makefile's `messages` target.
MAKEMESSAGES_OPTIONS = {"add_location": "file", "no_obsolete": True,
                        "ignore_patterns": ["tests/*", "benchmarks/*", "staticfiles/*", "var/*", "build/*",
                                            "node_modules/*", "docs/*"]}


@pytest.mark.parametrize("code", LOCALES)
def test_every_string_is_in_every_catalogue_and_translated(extracted, code):
    path = ROOT / "locale" / code / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"no catalogue for {code}: run `make messages`"
    catalogue = polib.pofile(str(path))
    have = {(e.msgctxt, e.msgid): e for e in catalogue if not e.obsolete}
    missing = [e.msgid for e in extracted if (e.msgctxt, e.msgid) not in have]
    assert missing == [], f"{code}: {len(missing)} strings missing (run `make messages`), e.g. {missing[:5]}"
    for entry in catalogue:
        if entry.obsolete:
            continue
        assert "fuzzy" not in entry.flags, f"{code}: fuzzy entry {entry.msgid!r}"
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        assert forms and all(f.strip() for f in forms), f"{code}: untranslated {entry.msgid!r}"
        if "python-format" in entry.flags or "python-brace-format" in entry.flags:
            source = _placeholders(entry.msgid_plural or entry.msgid)
            for form in forms:
                assert set(_placeholders(form)) <= set(source) | set(_placeholders(entry.msgid)), (
                    f"{code}: {entry.msgid!r} -> {form!r} has placeholders the source lacks")
                if not entry.msgid_plural:
                    assert _placeholders(form) == sorted(source) or set(_placeholders(form)) == set(source), (
                        f"{code}: {entry.msgid!r} -> {form!r} drops a placeholder")


@pytest.mark.parametrize("code", LOCALES)
def test_compiled_catalogue_matches_the_po(code):
    """``make run`` on a fresh clone reads the committed .mo: it must say what the .po says."""
    folder = ROOT / "locale" / code / "LC_MESSAGES"
    po = {(e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural)) for e in polib.pofile(str(folder / "django.po"))
          if not e.obsolete and e.msgid}
    mo = {(e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural)) for e in polib.mofile(str(folder / "django.mo"))
          if e.msgid}
    assert mo == po, f"{code}: django.mo is stale: run `make messages` (compilemessages)"


@pytest.mark.django_db
@pytest.mark.parametrize("code", LOCALES)
def test_pages_render_in_the_interface_language(client, code):
    from django.utils import translation

    with translation.override(code):
        assert translation.gettext("Skip to content") != "Skip to content"
        assert translation.get_language_info(code)["name_local"]
    page = client.get("/report/", HTTP_ACCEPT_LANGUAGE=code)
    html = page.content.decode()
    assert f'<html lang="{code}"' in html
    assert ("dir=\"rtl\"" in html.split(">", 2)[1]) == translation.get_language_info(code)["bidi"]


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "required"), [("am", "ይህ መስክ ያስፈልጋል።"), ("ha", "Ana buƙatar wannan filin.")])
def test_django_form_errors_are_translated_where_django_has_no_catalogue(client, code, required):
    """Django ships no Hausa or Amharic catalogue; Parity's carries the errors its forms can show."""
    page = client.post("/report/", {}, HTTP_ACCEPT_LANGUAGE=code)
    assert required in page.content.decode()
    assert "This field is required." not in page.content.decode()
