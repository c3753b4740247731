"""`manage.py demo` seeds a complete workspace once, with logins kept out of the repository."""
import json

import pytest
from django.core.management import CommandError, call_command

from annotation.models import Item, Project
from evaluators.models import CalibrationRound, GuidelineVersion, PoolMembership

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_workspace_once(settings, capsys):
    call_command("demo", items_per_language=21)
    project = Project.objects.get(slug="demo-topics")
    tags = {language.tag: language.direction for language in project.languages.all()}
    assert tags == {"hau_Latn": "ltr", "amh_Ethi": "ltr", "urd_Arab": "rtl"}
    assert project.labels.count() == 7
    assert GuidelineVersion.objects.filter(guideline__project=project, status="published").exists()
    for pool in project.pools.all():
        states = sorted(pool.memberships.values_list("state", flat=True))
        assert states == ["invited", "qualified", "qualified", "qualified"]  # one goes through calibration
        round_ = CalibrationRound.objects.get(pool=pool)
        # A gold bank for every attempt the pool allows, each of fresh items.
        assert round_.items.count() >= pool.max_attempts * round_.items_per_attempt
    assert Item.objects.filter(project=project, is_control=True).exists()
    assert Item.objects.filter(project=project, split=Item.Split.POOL, is_control=False).count() == 3 * 21
    credentials = json.loads((settings.VAR_DIR / "demo_credentials.json").read_text())
    assert {"admin", "reviewer", "urd-1"} <= set(credentials)
    assert credentials["admin"] in capsys.readouterr().out

    call_command("demo")  # a second run changes nothing
    assert Project.objects.filter(slug="demo-topics").count() == 1
    assert PoolMembership.objects.count() == 12
    assert "exists already" in capsys.readouterr().out


def test_demo_with_a_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("demo", data=str(tmp_path / "nowhere"))
    assert not Project.objects.exists()


def test_demo_languages_reach_approved_labels_even_after_a_suspension(client):
    """The stall of issue 10: with k = 3 and too few evaluators, languages never got an approval."""
    from annotation.models import ApprovedLabel
    from evaluators.services import membership_suspend
    from tests.annotation.conftest import label_next

    call_command("demo", items_per_language=12)
    project = Project.objects.get(slug="demo-topics")
    hausa = PoolMembership.objects.get(pool__project=project, user__username="hau-1")
    membership_suspend(membership=hausa, reason="automatic: control accuracy under the floor")
    for membership in PoolMembership.objects.filter(pool__project=project, state="qualified"):
        while label_next(membership.user, "sports", project=project) is not None:
            pass
    for language in project.languages.all():
        approved = ApprovedLabel.objects.filter(item__project=project, item__language=language).count()
        assert approved > 0, language.tag

    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get("/console/")
    rows = {row.language.tag: row for row in page.context["capacity"]}
    assert set(rows) == {"hau_Latn", "amh_Ethi", "urd_Arab"}
    assert (rows["hau_Latn"].capacity, rows["hau_Latn"].overlap, rows["hau_Latn"].stalled) == (2, 3, False)
    assert (rows["amh_Ethi"].capacity, rows["amh_Ethi"].ok) == (3, True)
    assert "Hausa" in page.content.decode() and "invite and qualify 1 more" in page.content.decode()
