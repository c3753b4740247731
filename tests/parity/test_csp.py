"""Content-Security-Policy on every page, no inline script in the app's own pages, and guideline
images only from the site itself or the allow-list."""
import re

import pytest
from django.urls import reverse

from evaluators.rendering import render_markdown
from tests.factories import ItemFactory, admin_user, language, published_guideline, qualified_evaluator

pytestmark = pytest.mark.django_db

# Inline code, that is: a <script> without src, except JSON data blocks (json_script), which never run.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.fixture
def pages(client):
    from tests.factories import ProjectFactory, calibration_round, pool

    project = ProjectFactory(slug="topics")
    hau = language("hau_Latn")
    project.languages.add(hau)
    published_guideline(project)
    user = qualified_evaluator(project, hau, username="amina")
    ItemFactory(project=project, language=hau, text="labari")
    calibrating = pool(ProjectFactory(slug="other"), hau)
    calibration_round(calibrating)
    from evaluators.services import membership_invite

    membership_invite(pool=calibrating, user=user)
    evaluator_pages = [reverse("annotation:dashboard"), reverse("annotation:workspace"),
                       reverse("evaluators:guideline", kwargs={"slug": "topics"}), reverse("tokens"),
                       reverse("evaluators:calibration", kwargs={"pool_id": calibrating.pk})]
    console_pages = [reverse(name) for name in ("annotation:console", "evaluators:console_guidelines",
                                                "annotation:review_queue", "annotation:agreement",
                                                "annotation:report_triage", "learner:parity", "learner:runs")]
    console_pages.append(reverse("evaluators:console_guideline_edit", kwargs={"slug": "topics"}))
    return user, evaluator_pages, console_pages


def _check(response):
    assert response.status_code == 200, response
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html).group(0)


def test_pages_have_a_policy_and_no_inline_script(client, pages):
    user, evaluator_pages, console_pages = pages
    for url in [reverse("evaluators:login"), reverse("annotation:report_create")]:
        _check(client.get(url))
    client.force_login(user)
    for url in evaluator_pages:
        _check(client.get(url))
    client.force_login(admin_user())
    for url in console_pages:
        _check(client.get(url))


def test_guideline_images_only_from_self_or_the_allow_list(settings):
    settings.GUIDELINE_IMAGE_ORIGINS = ["https://img.example.org"]
    html = render_markdown("![a](/media/a.png) ![b](https://img.example.org/b.png) "
                           "![c](https://tracker.example.com/pixel.gif) ![d](//evil.example/x.png) "
                           "![e](https://img.example.org.evil.example/e.png)")
    sources = re.findall(r'src="([^"]+)"', html)
    assert sources == ["/media/a.png", "https://img.example.org/b.png"]


def test_api_docs_run_without_inline_script(client):
    """Swagger UI's start-up script is a separate request (SpectacularSwaggerSplitView), so the CSP holds."""
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert client.get("/api/docs/?script=").status_code == 200
