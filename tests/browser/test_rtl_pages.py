"""Every page in Urdu (right to left, Nastaliq) and a few in Amharic, in a real Chromium.

A page passes when ``<html>`` says ``lang="ur" dir="rtl"``, no element shows an English interface
string that the Urdu catalogue translates (headings, buttons, labels, table headers, links...), key
badges sit inside their buttons at the start side, and nothing overflows sideways.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from annotation.models import Report
from annotation.services import annotation_submit, assignment_next, item_flag, report_create
from evaluators.models import CalibrationAttempt, Pool
from evaluators.services import GoldItem, calibration_attempt_submit, calibration_round_create, membership_invite
from learner.models import ModelVersion
from tests.browser.conftest import PASSWORD, login, shot
from tests.factories import ItemFactory, ProjectFactory, UserFactory, language, published_guideline, qualified_evaluator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVALUATOR_PAGES = ["/", "/work/", "/work/assignments/{assignment}/", "/work/annotations/{annotation}/",
                   "/guidelines/topics/", "/report/", "/report/{report}/", "/account/tokens/"]
CALIBRATION_PAGES = ["/calibration/{pool}/", "/calibration/attempts/{attempt}/result/"]
STAFF_PAGES = ["/console/", "/console/health/", "/console/guidelines/", "/console/guidelines/topics/",
               "/console/guidelines/topics/diff/", "/review/", "/review/?reason=flagged", "/console/agreement/",
               "/console/agreement/?project=topics&language=urd_Arab", "/console/reports/", "/console/parity/",
               "/console/runs/", "/console/models/{version}/promote/", "/account/tokens/"]
ANONYMOUS_PAGES = ["/accounts/login/", "/report/", "/report/{report}/"]
# Every HTML page of the URL configuration is visited above (test_every_page_is_in_the_lists fails for a new
# one); these URL names are not pages: POST-only actions, JSON, or the language switch itself.
NOT_PAGES = {
    "annotation:workspace_release", "annotation:session_goal", "annotation:assignment_submit",
    "annotation:assignment_skip", "annotation:assignment_flag", "annotation:annotation_undo",
    "annotation:annotation_relabel", "annotation:review_resolve", "annotation:review_bulk_approve",
    "annotation:report_triage_action", "learner:runs_status", "learner:retrain", "learner:project_suggestions",
    "token_revoke", "evaluators:logout", "healthz", "set_language",
}
# What the issue saw left in English in Urdu mode.
SEEN_IN_ENGLISH = ["Hello", "Labelled today", "Skip", "Queue", "Dashboard", "Annotate", "Report an issue"]
LATIN_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){3,}")
TEXT_ELEMENTS = "h1, h2, h3, th, button, label, legend, a, dt, summary, option, .muted, .badge, p, li"


def _english_interface_strings() -> set[str]:
    """Each msgid the Urdu catalogue translates to something else, without placeholders."""
    catalogue = polib.pofile(str(Path(settings.BASE_DIR) / "locale" / "ur" / "LC_MESSAGES" / "django.po"))
    return {e.msgid for e in catalogue if e.msgstr and e.msgstr != e.msgid and "%" not in e.msgid
            and "<" not in e.msgid and any(c.isalpha() for c in e.msgid) and len(e.msgid) > 1}


def _untranslated_on(page, english: set[str]) -> list[str]:
    texts = page.eval_on_selector_all(
        TEXT_ELEMENTS,
        """els => els.filter(el => !el.closest('.item-text, [data-test=item-text], code, .guideline-body, .diff')
                         && el.offsetParent !== null)
                  .map(el => el.innerText.trim())""")
    exact = {t for t in texts if t in english}
    # sentences built in Python from translated pieces (capacity advice, refusals) contain no
    # four Latin words in a row in Urdu; names in the data (project, language, labels) are shorter
    sentences = {t for t in texts if LATIN_RUN.search(t)}
    return sorted(exact | sentences)


def test_every_page_is_in_the_lists():
    """A page added to a URL configuration fails here until the Urdu walk below visits it."""
    from tests.parity.test_access_matrix import endpoints

    visited = {_route_of(path) for path in EVALUATOR_PAGES + CALIBRATION_PAGES + STAFF_PAGES + ANONYMOUS_PAGES}
    missing = []
    for route, name, _rules in endpoints():
        if route.startswith("api/") or name in NOT_PAGES:
            continue
        if re.sub(r"<[^>]+>", "*", route) not in visited:
            missing.append(f"/{route} ({name})")
    assert missing == [], "pages the RTL walk does not visit (add them, or to NOT_PAGES):\n" + "\n".join(missing)


def _route_of(path: str) -> str:
    """``/report/{report}/?x=1`` -> ``report/*/`` (a route with its converters as ``*``)."""
    bare = path.split("?", 1)[0].lstrip("/")
    bare = re.sub(r"\{[a-z]+\}", "*", bare)
    return re.sub(r"(?<=/)(topics|promote)(?=/)", "*", bare)


def _setup():
    project = ProjectFactory(slug="topics", name="Topics")
    urdu, amharic = language("urd_Arab"), language("amh_Ethi")
    project.languages.add(urdu, amharic)
    published_guideline(project, body="# Topics\n\n- politics\n- sports\n- health\n")
    qualified_evaluator(project, urdu, username="zara")
    qualified_evaluator(project, amharic, username="abebe")
    ItemFactory(project=project, language=urdu, text="یہ جملہ کھیلوں کے بارے میں ہے۔", priority=2)
    ItemFactory(project=project, language=amharic, text="ይህ ዓረፍተ ነገር ስለ ስፖርት ነው።", priority=2)
    # a second Urdu pool member still calibrating, for the calibration page
    pool = Pool.objects.get(project=project, language=urdu)
    learner = UserFactory(username="nadia")
    membership_invite(pool=pool, user=learner)
    gold = [GoldItem(text="ٹیم نے میچ جیت لیا۔", reference_label="sports"),
            GoldItem(text="پارلیمان نے قانون منظور کیا۔", reference_label="politics")]
    calibration_round_create(pool=pool, items=gold)
    get_user_model().objects.create_user(username="admin", password=PASSWORD, is_staff=True, is_superuser=True)
    return project, pool


def _setup_work(project):
    """zara's labelled item (its edit page), her flag (the Flagged tab), the item on her screen (its own
    page), a public report and a candidate model (the promote confirmation): ids for the page lists."""
    zara = get_user_model().objects.get(username="zara")
    urdu = language("urd_Arab")
    ItemFactory(project=project, language=urdu, text="حکومت نے نیا بجٹ پیش کیا۔", priority=5)
    ItemFactory(project=project, language=urdu, text="یہ جملہ پڑھا نہیں جا سکتا۔", priority=4)
    labelled = assignment_next(evaluator=zara)
    annotation = annotation_submit(evaluator=zara, assignment_id=labelled.pk, label="politics",
                                   idempotency_key=uuid.uuid4().hex)
    flagged = assignment_next(evaluator=zara)
    item_flag(evaluator=zara, assignment_id=flagged.pk, reason="unreadable", comment="متن ادھورا ہے")
    shown = assignment_next(evaluator=zara)
    report = report_create(language="urd_Arab", input_text="موسم کیسا ہے؟", model_output="کھیل",
                           category=Report.Category.WRONG_LABEL)
    version = ModelVersion.objects.create(project=project, language=urdu, backend="ngram", adapter_path="x",
                                          macro_f1=0.41, status=ModelVersion.Status.CANDIDATE)
    return {"assignment": shown.public_id, "annotation": annotation.pk, "report": report.reference,
            "version": version.pk}


def _in_language(page, live_server, code):
    page.context.add_cookies([{"name": "django_language", "value": code, "url": live_server.url}])


def _check_page(page, url, english, lang="ur", direction="rtl"):
    page.goto(url)
    html = page.locator("html")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", direction)
    left = _untranslated_on(page, english)
    assert left == [], f"{url}: still in English: {left}"
    body = page.locator("main").inner_text()
    for text in SEEN_IN_ENGLISH:
        assert text not in page.locator("header").inner_text() + body.replace("Topics", ""), (url, text)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 2"), f"{url} overflows"
    assert page.js_errors == [], page.js_errors


def _kbd_inside_buttons_at_start(page):
    boxes = page.eval_on_selector_all(
        "button:has(> kbd)",
        """bs => bs.filter(b => b.offsetParent !== null).map(b => {
            const k = b.querySelector(':scope > kbd').getBoundingClientRect(), r = b.getBoundingClientRect();
            return {k: [k.left, k.right, k.top, k.bottom], b: [r.left, r.right, r.top, r.bottom],
                    text: b.innerText};
        })""")
    assert boxes, "no button with a key badge"
    for box in boxes:
        (kl, kr, kt, kb), (bl, br, bt, bb) = box["k"], box["b"]
        assert bl <= kl and kr <= br and bt <= kt and kb <= bb, f"key badge outside its button: {box}"
        assert kl - bl > br - kr, f"key badge not at the start (right) of its button in RTL: {box}"


def test_every_evaluator_page_in_urdu_is_rtl_and_translated(page, live_server):
    project, pool = _setup()
    ids = _setup_work(project)
    english = _english_interface_strings()
    login(page, live_server, "zara")
    _in_language(page, live_server, "ur")
    for path in EVALUATOR_PAGES:
        _check_page(page, live_server.url + path.format(**ids), english)
        if path == "/work/":
            text = page.locator('[data-test="item-text"]')
            expect(text).to_have_attribute("lang", "ur")
            expect(text).to_have_attribute("dir", "rtl")
            assert "Nastaliq" in text.evaluate("el => getComputedStyle(el).fontFamily")
            assert page.evaluate("document.fonts.check('16px \"Parity Noto Nastaliq Urdu\"', 'اردو')")
            _kbd_inside_buttons_at_start(page)
            shot(page, "workspace-ur")
        if path == "/":
            shot(page, "dashboard-ur")
    page.context.clear_cookies()
    login(page, live_server, "nadia")
    _in_language(page, live_server, "ur")
    _check_page(page, live_server.url + CALIBRATION_PAGES[0].format(pool=pool.pk), english)
    _kbd_inside_buttons_at_start(page)
    shot(page, "calibration-ur")
    attempt = CalibrationAttempt.objects.get(user__username="nadia")
    order = list(attempt.item_order)
    calibration_attempt_submit(user=attempt.user, attempt_id=attempt.pk,
                               answers={pk: "sports" for pk in order})
    _check_page(page, live_server.url + CALIBRATION_PAGES[1].format(attempt=attempt.pk), english)
    # and the pages anyone reaches without logging in
    page.context.clear_cookies()
    _in_language(page, live_server, "ur")
    for path in ANONYMOUS_PAGES:
        _check_page(page, live_server.url + path.format(**ids), english)


def test_every_console_page_in_urdu_is_rtl_and_translated(page, live_server):
    project, _pool = _setup()
    ids = _setup_work(project)
    english = _english_interface_strings()
    login(page, live_server, "admin")
    _in_language(page, live_server, "ur")
    for path in STAFF_PAGES:
        _check_page(page, live_server.url + path.format(**ids), english)
        if path == "/review/?reason=flagged":
            expect(page.locator("main")).to_contain_text("متن ادھورا ہے")  # the flag's comment: a row is shown
    page.goto(live_server.url + "/console/")
    shot(page, "console-ur")


def test_workspace_and_report_form_in_amharic(page, live_server):
    _setup()
    login(page, live_server, "abebe")
    _in_language(page, live_server, "am")
    page.goto(live_server.url + "/work/")
    expect(page.locator("html")).to_have_attribute("lang", "am")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("button", name="ዝለል")).to_be_visible()  # Skip
    text = page.locator('[data-test="item-text"]')
    expect(text).to_have_attribute("lang", "am")
    assert "Ethiopic" in page.locator("body").evaluate("el => getComputedStyle(el).fontFamily")
    assert page.evaluate("document.fonts.check('16px \"Parity Noto Sans Ethiopic\"', 'ሰላም')")
    shot(page, "workspace-am")
    page.goto(live_server.url + "/")
    expect(page.locator("h1")).to_contain_text("ሰላም")  # Hello
    shot(page, "dashboard-am")
    page.goto(live_server.url + "/report/")
    shot(page, "report-form-am")
    assert page.js_errors == []
