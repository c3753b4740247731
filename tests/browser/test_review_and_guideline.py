"""Browser walks of issue 12's human workflow: a reviewer adjudicates a tie and a flagged item from the
keyboard; an evaluator acknowledges a republished guideline from inside the workspace without losing the
item or the label pressed, and sees the item timer."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from annotation.models import Annotation, Assignment, Item, ItemFlag
from annotation.services import assignment_next, item_flag
from evaluators.models import GuidelineAcknowledgement
from evaluators.roles import REVIEWERS
from evaluators.services import guideline_draft, guideline_publish
from tests.browser.conftest import login, shot
from tests.factories import ItemFactory, ProjectFactory, language, published_guideline, qualified_evaluator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GUIDELINE = "# Topics\n\nChoose the **one topic** the sentence is about.\n"


def _project():
    project = ProjectFactory(slug="topics", name="Topics", labels=["politics", "sports", "science/technology"])
    hausa = language("hau_Latn")
    project.languages.add(hausa)
    published_guideline(project, body=GUIDELINE)
    return project, hausa


def test_reviewer_adjudicates_a_tie_and_a_flagged_item_from_the_keyboard(page, live_server):
    project, hausa = _project()
    tie = ItemFactory(project=project, language=hausa, text="Wasan kwallon kafa da siyasa.", priority=5,
                      status=Item.Status.ADJUDICATION, review_reason="tie")
    low = ItemFactory(project=project, language=hausa, text="Labari mara tabbas.", priority=1,
                      status=Item.Status.ADJUDICATION, review_reason="low confidence (0.50 < 0.70)",
                      proposed_label="politics", proposed_confidence=0.5)
    evaluator = qualified_evaluator(project, hausa, username="amina")
    bad = ItemFactory(project=project, language=hausa, text="Rubutu mara ma'ana xx", priority=9)
    lease = assignment_next(evaluator=evaluator)
    assert lease.item_id == bad.pk
    item_flag(evaluator=evaluator, assignment_id=lease.pk, reason="unreadable", comment="random letters")
    from tests.factories import pool, role_user

    role_user(REVIEWERS, pool(project, hausa), username="rita")

    login(page, live_server, "rita")
    expect(page).to_have_url(re.compile(r"/review/$"))  # a reviewer outside every pool lands on the queue
    cards = page.locator('[data-test="review-item"]')
    expect(cards).to_have_count(2)
    expect(cards.first).to_have_class(re.compile("current"))
    expect(cards.first.locator("select[data-label-select]")).to_have_value("")  # nothing preselected
    page.keyboard.press("?")
    expect(page.locator('[data-test="review-help"]')).to_be_visible()
    page.keyboard.press("?")
    shot(page, "review-queue")

    # The tie (first, higher priority): 2 picks "sports", o sets it.
    page.keyboard.press("2")
    expect(cards.first.locator("select[data-label-select]")).to_have_value("sports")
    page.keyboard.press("o")
    expect(page.locator(".msg").first).to_contain_text("sports approved")
    tie.refresh_from_db()
    assert tie.status == Item.Status.APPROVED and tie.approved_label.label == "sports"

    # j moves on (one item left here), a approves the proposal of the low-confidence one.
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_class(re.compile("current"))  # the script is back, at the same position
    page.keyboard.press("a")
    expect(page.locator('[data-test="review-empty"]')).to_be_visible()
    low.refresh_from_db()
    assert low.approved_label.label == "politics"

    # The flagged item: in its tab with the reason and comment; r removes it from the pool.
    page.locator('[data-test="tab-flagged"]').click()
    card = page.locator('[data-test="review-item"]')
    expect(card).to_have_count(1)
    expect(card.locator('[data-test="flags"]')).to_contain_text("random letters")
    expect(card).to_have_class(re.compile("current"))
    shot(page, "review-queue-flagged")
    page.keyboard.press("j")
    page.keyboard.press("r")
    expect(page.locator('[data-test="review-empty"]')).to_be_visible()
    bad.refresh_from_db()
    assert bad.status == Item.Status.REMOVED
    assert ItemFlag.objects.get(item=bad).resolution == ItemFlag.Resolution.REMOVED
    assert not page.js_errors


def test_evaluator_acknowledges_a_republished_guideline_inside_the_workspace(page, live_server):
    project, hausa = _project()
    qualified_evaluator(project, hausa, username="amina")
    texts = [f"Jumla ta {n} game da kimiyya." for n in range(3)]
    for n, text in enumerate(texts):
        ItemFactory(project=project, language=hausa, text=text, priority=10 - n)
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, live_server, "amina")
    page.goto(f"{live_server.url}/work/")
    expect(page.locator('[data-test="item-text"]')).to_have_text(texts[0])
    timer = page.locator('[data-test="item-timer"]')
    expect(timer).to_have_text("0:01", timeout=4000)  # the timer runs

    # The long label wraps inside its button at 1366 px.
    button = page.locator("button.label-btn", has_text="science/technology")
    box, inner = button.bounding_box(), button.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert box["width"] > 0 and inner[0] <= inner[1] + 1

    version = guideline_publish(version=guideline_draft(
        project=project, body=GUIDELINE + "\nNews about phones is **science/technology**.\n"))
    page.keyboard.press("3")  # refused: the guideline changed while the item was open
    panel = page.locator('[data-test="guideline-changed"]')
    expect(panel).to_be_visible()
    expect(page.locator('[data-test="item-text"]')).to_have_text(texts[0])  # the item it was for, on screen
    expect(panel).to_contain_text("v1.1")
    expect(panel.locator("ins")).to_contain_text("News about phones")
    expect(panel).to_contain_text("science/technology")  # the label kept
    shot(page, "workspace-guideline-changed")
    assert not Annotation.objects.exists()

    page.locator('[data-test="gc-acknowledge"]').click()
    expect(panel).to_be_hidden()
    expect(page.locator("#guide-h .badge")).to_have_text("v1.1")
    expect(page.locator("#undo-label")).to_have_text("science/technology")  # the save went through
    expect(page.locator('[data-progress="session_done"]').first).to_have_text("1")
    annotation = Annotation.objects.get()  # the label pressed before the acknowledgement, not lost
    assert annotation.label == "science/technology" and annotation.item.text == texts[0]
    assert annotation.guideline_version == version
    assert GuidelineAcknowledgement.objects.filter(version=version).exists()
    expect(page.locator('[data-test="item-text"]')).to_have_text(texts[1])
    expect(timer).to_have_text(re.compile(r"^0:0\d$"))
    shot(page, "workspace")
    page.keyboard.press("1")
    expect(page.locator('[data-progress="session_done"]').first).to_have_text("2")
    assert Annotation.objects.count() == 2
    assert Assignment.objects.filter(status=Assignment.Status.SUBMITTED).count() == 2
    assert not page.js_errors


def test_admin_sees_a_language_below_capacity_on_the_health_page(page, live_server):
    from django.contrib.auth import get_user_model

    from tests.browser.conftest import PASSWORD

    project, hausa = _project()
    project.overlap = 2
    project.save()
    urdu = language("urd_Arab")
    project.languages.add(urdu)
    for name in ("amina", "musa"):
        qualified_evaluator(project, hausa, username=name)
    for n in range(5):
        ItemFactory(project=project, language=hausa, text=f"Jumla {n}")
        ItemFactory(project=project, language=urdu, text=f"جملہ {n}")
    get_user_model().objects.create_user(username="admin", password=PASSWORD, is_staff=True, is_superuser=True)
    login(page, live_server, "admin")
    expect(page).to_have_url(re.compile(r"/console/$"))  # an admin outside every pool lands on the console
    page.locator('[data-test="health-link"]').click()
    urdu_row = page.locator('[data-test="health-row"][data-language="urd_Arab"]')
    expect(urdu_row.locator('[data-test="cell-evaluators"]')).to_have_class(re.compile("red"))
    expect(urdu_row.locator('[data-test="cell-evaluators"]')).to_have_text("0 / 2")
    hausa_row = page.locator('[data-test="health-row"][data-language="hau_Latn"]')
    expect(hausa_row.locator('[data-test="cell-evaluators"]')).not_to_have_class(re.compile("red"))
    expect(page.locator('[data-test="health-next"][data-language="urd_Arab"]')).to_contain_text(
        "invite and qualify 2 more")
    shot(page, "health")
    assert not page.js_errors
