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


# --- Python strings of the admin and the console ------------------------------------------------
# makemessages extracts only what gettext marks: a plain string in an admin action, a column heading,
# a help text or a message would never reach a catalogue, so the two tests below look for them.

def _readable(text) -> bool:
    """Text with a word people read (not a symbol such as κ or macro-F1)."""
    words = [w.strip(".,:;·—–-()[]/|+−%!?…“”\"'") for w in str(text).split()]
    return any(re.search(r"[^\W\d_]{2,}", w) and w not in UNTRANSLATED for w in words)


def _plain(value) -> bool:
    from django.utils.functional import Promise

    return isinstance(value, str) and not isinstance(value, Promise) and _readable(value)


def _admin_labels():
    """(where, text) for every label the admin shows from Python: action descriptions, column headings,
    fieldset titles and descriptions, inline titles, app names, and the help texts, field names and
    choices of the platform's models."""
    from django.apps import apps
    from django.contrib import admin

    ours = {folder.name for folder in code_folders()}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ours:
            continue
        where = f"{type(model_admin).__module__}.{type(model_admin).__name__}"
        for action in model_admin.actions or []:
            func = action if callable(action) else getattr(model_admin, action)
            yield f"{where} action {getattr(func, '__name__', action)}", getattr(func, "short_description", "")
        names = [*model_admin.list_display, *model_admin.readonly_fields,
                 *(getattr(model_admin, "detail_extra", []) or [])]
        for name in names:
            attr = getattr(model_admin, name, None) if isinstance(name, str) else name
            if attr is not None and hasattr(attr, "short_description"):
                yield f"{where} column {name}", attr.short_description
        for title, options in model_admin.fieldsets or []:
            yield f"{where} fieldset", title or ""
            yield f"{where} fieldset description", options.get("description", "")
        for inline in model_admin.inlines:
            yield f"{inline.__module__}.{inline.__name__}", inline.verbose_name_plural or ""
            for name in [*(inline.fields or []), *(inline.readonly_fields or [])]:
                attr = getattr(inline, name, None)
                if attr is not None and hasattr(attr, "short_description"):
                    yield f"{inline.__name__} column {name}", attr.short_description
    for config in apps.get_app_configs():
        if config.name in ours:
            yield f"app {config.name}", config.verbose_name
            for model in config.get_models():
                for f in model._meta.get_fields():
                    if getattr(f, "auto_created", False):  # the id, reverse relations: Django's own
                        continue
                    for attribute in ("help_text", "verbose_name"):
                        value = getattr(f, attribute, "")
                        # a verbose_name Django derives from the field's name is not ours to mark
                        if attribute == "verbose_name" and value == getattr(f, "name", "").replace("_", " "):
                            continue
                        yield f"{model.__name__}.{getattr(f, 'name', f)} {attribute}", value
                    for _value, label in getattr(f, "choices", None) or []:
                        yield f"{model.__name__}.{f.name} choice", label
                if "verbose_name_plural" in model._meta.original_attrs:
                    yield f"{model.__name__} verbose_name_plural", model._meta.verbose_name_plural


def test_admin_labels_are_marked_for_translation():
    plain = [f"{where}: {text!r}" for where, text in _admin_labels() if _plain(text)]
    assert plain == [], "admin labels that no catalogue can hold (wrap them in gettext_lazy):\n" + "\n".join(plain)


def test_the_admin_label_check_catches_a_plain_string():
    from django.utils.translation import gettext_lazy

    assert _plain("Suspend selected members") and not _plain(gettext_lazy("Suspend selected members"))
    assert not _plain("κ") and not _plain("macro-F1") and not _plain("")


# Calls whose text reaches a person: Django's messages, an admin action's message, admin labels.
_MESSAGE_CALLS = {"message_user": 1, "success": 1, "error": 1, "warning": 1, "info": 1, "debug": 1}
_LABEL_KEYWORDS = {"help_text", "verbose_name", "verbose_name_plural", "label", "short_description"}
_TRANSLATORS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}


def _untranslated_literal(node) -> bool:
    """A string made in place (a literal, an f-string, a literal % or + something) rather than by gettext."""
    import ast

    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and _readable(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and _readable(v.value) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _untranslated_literal(node.left) or _untranslated_literal(node.right)
    return False


def untranslated_python(source: str) -> list[tuple[int, str]]:
    """(line, code) of each message or admin label in ``source`` built from a plain literal."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in _TRANSLATORS:
            continue
        owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
        if name in _MESSAGE_CALLS and (name == "message_user" or owner == "messages") and len(node.args) > 1:
            if _untranslated_literal(node.args[1]):
                found.append((node.lineno, ast.unparse(node.args[1])[:80]))
        labels = _LABEL_KEYWORDS | ({"description"} if name in ("display", "action") else set())
        for keyword in node.keywords:
            if keyword.arg in labels and _untranslated_literal(keyword.value):
                found.append((node.lineno, f"{keyword.arg}={ast.unparse(keyword.value)[:80]}"))
    return found


def test_the_python_scanner_catches_what_it_must():
    assert untranslated_python('self.message_user(request, f"{n} item(s) aggregated.")') == [
        (1, "f'{n} item(s) aggregated.'")]
    assert untranslated_python('messages.success(request, "Saved.")') == [(1, "'Saved.'")]
    assert untranslated_python('@admin.action(description="Publish selected drafts")\ndef f(): pass') == [
        (1, "description='Publish selected drafts'")]
    assert untranslated_python('x = models.IntegerField(help_text="Items per day")') == [
        (1, "help_text='Items per day'")]
    assert untranslated_python('messages.info(request, _("Saved %(n)s.") % {"n": 1})') == []
    assert untranslated_python('@admin.display(description=gettext_lazy("members"))\ndef f(): pass') == []
    assert untranslated_python('admin_metric("kappa", "κ"); messages.error(request, " ".join(exc.messages))') == []


# API descriptions (OpenAPI docs for programmers) and the command line speak English.
_PYTHON_NOT_SCANNED = ("api.py", "serializers.py", "schema.py", "schema_views.py")


def python_modules() -> list[Path]:
    found = []
    for folder in code_folders():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(ROOT)
            if {"migrations", "management", "templates"} & set(rel.parts) or path.name in _PYTHON_NOT_SCANNED:
                continue
            found.append(path)
    return found


@pytest.mark.parametrize("module", python_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_messages_and_admin_labels_are_translatable(module):
    found = untranslated_python(module.read_text(encoding="utf-8"))
    assert found == [], (f"{module.relative_to(ROOT)}: user-visible strings outside gettext (wrap them and run "
                         f"`make messages`): {found}")


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "action", "column"), [
    ("fr", "Suspendre les membres sélectionnés", "Précision sur les contrôles"),  # the admin capitalises headings
    ("ur", "منتخب ارکان کو معطل کریں", "کنٹرول درستی"),
])
def test_the_admin_speaks_the_interface_language(client, code, action, column):
    from tests import factories as f

    f.member(f.pool(f.ProjectFactory(slug="topics"), f.language("hau_Latn")), username="amina")
    client.force_login(f.admin_user(username="root", is_staff=True))
    client.cookies["django_language"] = code
    html = client.get("/admin/evaluators/poolmembership/").content.decode()
    assert action in html and column in html
    assert "Suspend selected members" not in html and "Control accuracy" not in html
