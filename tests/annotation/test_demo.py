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
        assert states == ["invited", "qualified", "qualified"]  # one evaluator goes through calibration
        assert CalibrationRound.objects.get(pool=pool).items.count() > 0
    assert Item.objects.filter(project=project, is_control=True).exists()
    assert Item.objects.filter(project=project, split=Item.Split.POOL, is_control=False).count() == 3 * 21
    credentials = json.loads((settings.VAR_DIR / "demo_credentials.json").read_text())
    assert {"admin", "reviewer", "urd-1"} <= set(credentials)
    assert credentials["admin"] in capsys.readouterr().out

    call_command("demo")  # a second run changes nothing
    assert Project.objects.filter(slug="demo-topics").count() == 1
    assert PoolMembership.objects.count() == 9
    assert "exists already" in capsys.readouterr().out


def test_demo_with_a_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("demo", data=str(tmp_path / "nowhere"))
    assert not Project.objects.exists()
