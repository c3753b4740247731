"""The workspace with prefetch in a real Chromium: keys show the next item at once, none is dropped."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotation.models import Annotation, Assignment
from tests.browser.conftest import PASSWORD, login
from tests.factories import ItemFactory, ProjectFactory, UserFactory, language, published_guideline, qualified_evaluator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_keys_pressed_back_to_back_are_all_saved_and_the_next_item_shows_at_once(page, live_server, capsys):
    project = ProjectFactory(slug="topics", name="Topics")
    hausa = language("hau_Latn")
    project.languages.add(hausa)
    published_guideline(project)
    user = UserFactory(username="zainab", password=PASSWORD)
    qualified_evaluator(project, hausa, username="zainab")
    texts = [f"Labari na {n} game da wasanni." for n in range(8)]
    for n, text in enumerate(texts):
        ItemFactory(project=project, language=hausa, text=text, priority=100 - n)

    login(page, live_server, "zainab")
    page.goto(f"{live_server.url}/work/")
    item_text = page.locator('[data-test="item-text"]')
    expect(item_text).to_have_text(texts[0])
    # The window is leased ahead: the shown item and two more.
    assert Assignment.objects.filter(evaluator=user, status=Assignment.Status.ACTIVE).count() == 3

    swaps = []
    for n in range(5):  # one key right after another, without waiting for the saves
        page.keyboard.press("1" if n % 2 == 0 else "2")
        expect(item_text).to_have_text(texts[n + 1])
        swaps.append(float(page.locator("#workspace").get_attribute("data-last-swap-ms") or "nan"))
    expect(page.locator('[data-progress="session_done"]')).to_have_text("5")
    labels = list(Annotation.objects.filter(evaluator=user).order_by("id").values_list("label", flat=True))
    assert labels == ["politics", "sports", "politics", "sports", "politics"]  # none dropped, in order
    with capsys.disabled():
        print(f"\nkeypress to next item on screen (ms, prefetch): {swaps}")

    # Leaving the workspace gives the prefetched leases back; the item on screen comes back later.
    page.goto(f"{live_server.url}/")
    page.wait_for_timeout(400)
    assert not Assignment.objects.filter(evaluator=user, status=Assignment.Status.ACTIVE).exists()
    page.goto(f"{live_server.url}/work/")
    expect(item_text).to_have_text(texts[5])
    assert page.js_errors == []
