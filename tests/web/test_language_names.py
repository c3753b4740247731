"""Languages are named in the reader's interface language on every page that lists them (one helper,
``evaluators.languages.display_name``, behind ``Language.display_name``), never as an English name or a
``hau_Latn`` code; the public report form lists each in its own name first."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from annotation.models import AgreementSnapshot, Item
from evaluators.languages import display_name, display_name_for_tag
from learner.models import ModelVersion, SamplingRun, TrainingRun
from tests import factories as f

pytestmark = pytest.mark.django_db

# Hausa and Urdu in each interface language (CLDR), as the pages must show them.
NAMES = {"en": ("Hausa", "Urdu"), "fr": ("Haoussa", "Ourdou"), "sw": ("Kihausa", "Kiurdu"),
         "ha": ("Hausa", "Urdanci"), "am": ("ሃውሳኛ", "ኡርዱኛ"), "ur": ("ہؤسا", "اردو")}


def test_the_helper_names_a_language_in_the_interface_language():
    for code, (hausa, urdu) in NAMES.items():
        assert display_name("hau", "Latn", locale=code) == hausa
        assert display_name("urd", "Arab", locale=code) == urdu
    with translation.override("fr"):
        assert display_name("amh", "Ethi") == "Amharique"  # CLDR's "amharique", capitalised for a cell
        assert display_name_for_tag("hau_Latn") == "Haoussa"
    assert display_name("hau", "Arab", locale="en") == "Hausa (Arabic)"  # a script that is not the usual one
    assert display_name("zzz", "Latn", fallback="Zzz", locale="fr") == "Zzz"  # unknown to CLDR: the ISO name
    assert display_name_for_tag("not a tag") == "not a tag"


class _Text(HTMLParser):
    """The text a reader sees (no attributes, scripts or styles)."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    """The visible text of ``<main>`` (the top bar's language switcher names each in its own name)."""
    parser = _Text()
    parser.feed(html.split("<main", 1)[1].split("</main>", 1)[0])
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def world(project, hausa, urdu):
    project.languages.add(urdu)
    f.qualified_evaluator(project, hausa, username="amina")
    f.ItemFactory(project=project, language=hausa, status=Item.Status.ADJUDICATION, review_reason="tie")
    f.ItemFactory(project=project, language=urdu, status=Item.Status.ADJUDICATION, review_reason="tie")
    ModelVersion.objects.create(project=project, language=hausa, backend="ngram", adapter_path="x", macro_f1=0.5,
                                status=ModelVersion.Status.CHAMPION)
    run = TrainingRun.objects.create(project=project, backend="ngram")
    run.languages.add(hausa, urdu)
    SamplingRun.objects.create(project=project, strategy="entropy", budget=4,
                               allocation={"hau_Latn": {"items": 2}, "urd_Arab": {"items": 2}})
    for language in (hausa, urdu):
        AgreementSnapshot.objects.create(project=project, language=language, krippendorff_alpha=0.5, n_items=3)
    return project


PAGES = ["annotation:console", "learner:health", "learner:parity", "learner:runs", "annotation:review_queue",
         "annotation:agreement"]


@pytest.mark.parametrize("code", sorted(NAMES))
@pytest.mark.parametrize("page", PAGES)
def test_console_pages_name_languages_in_the_interface_language(client, staff, world, code, page):
    client.force_login(staff)
    client.cookies["django_language"] = code
    text = visible(client.get(reverse(page)).content.decode())
    hausa, urdu = NAMES[code]
    assert hausa in text and urdu in text, f"{page} in {code}: {text[:400]}"
    assert "hau_Latn" not in text and "urd_Arab" not in text, f"{page} shows a language code: {text[:400]}"
    if code not in ("en", "ha"):  # the Hausa name of Hausa is "Hausa"
        assert "Hausa" not in text.replace(hausa, ""), f"{page} in {code} shows the English name"


@pytest.mark.parametrize("code", ["fr", "ur"])
def test_the_dashboard_and_the_review_filter_name_languages_in_the_interface_language(client, staff, world, code):
    client.cookies["django_language"] = code
    client.force_login(world.pools.get(language__code="hau").memberships.get().user)
    text = visible(client.get(reverse("annotation:dashboard")).content.decode())
    assert NAMES[code][0] in text and "hau_Latn" not in text
    client.force_login(staff)
    html = client.get(reverse("annotation:review_queue")).content.decode()
    assert f'<option value="hau_Latn" >{NAMES[code][0]}</option>' in html


def test_the_report_form_lists_each_language_in_its_own_name_then_in_the_interface_language(client, world):
    client.cookies["django_language"] = "fr"
    html = client.get(reverse("annotation:report_create")).content.decode()
    assert '<option value="urd_Arab" lang="ur" dir="rtl">اردو — Ourdou</option>' in html
    assert '<option value="hau_Latn" lang="ha" dir="ltr">Hausa — Haoussa</option>' in html
