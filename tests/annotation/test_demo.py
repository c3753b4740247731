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


def _sample_rows(tag: str, split: str) -> dict[str, tuple[str, str]]:
    from annotation.corpora import DEMO_SAMPLE, read_split

    return {row.text: (row.id, row.label) for row in read_split(DEMO_SAMPLE / tag / f"{split}.tsv")}


def test_demo_items_calibration_gold_and_controls_are_real_sentences():
    """Every demo text is a SIB-200 sentence from the shipped sample, with its real topic; no
    generated filler, no unassigned code points (which render as missing-glyph boxes)."""
    import unicodedata

    from evaluators.models import CalibrationItem

    call_command("demo", items_per_language=30)
    project = Project.objects.get(slug="demo-topics")
    for tag in ("hau_Latn", "amh_Ethi", "urd_Arab"):
        train, dev, test = (_sample_rows(tag, split) for split in ("train", "dev", "test"))
        code, script = tag.split("_")
        items = Item.objects.filter(project=project, language__code=code, language__script=script)
        pool = items.filter(split=Item.Split.POOL, is_control=False)
        assert pool.count() == 30 and all(text in train for text in pool.values_list("text", flat=True))
        for text, label in items.filter(is_control=True).values_list("text", "reference_label"):
            assert dev[text][1] == label
        for text, label in items.filter(split=Item.Split.HELDOUT).values_list("text", "reference_label"):
            assert test[text][1] == label
        gold = CalibrationItem.objects.filter(round__pool__project=project, round__pool__language__code=code)
        assert gold.count() >= 7
        for text, label in gold.values_list("text", "reference_label"):
            assert dev[text][1] == label
        # Calibration gold covers every topic, so a qualifying evaluator has seen them all.
        topics = set(project.labels.values_list("value", flat=True))
        assert set(gold.values_list("reference_label", flat=True)) == topics
        for text in items.values_list("text", flat=True):
            assert all(unicodedata.name(ch, None) for ch in text if not ch.isspace()), text


def test_shipped_sample_is_small_parallel_and_credited():
    from annotation.corpora import DEMO_SAMPLE, load_sib200

    corpus = load_sib200(DEMO_SAMPLE, ["hau_Latn", "amh_Ethi", "urd_Arab"])
    for tag, splits in corpus.items():
        sizes = {split: len(rows) for split, rows in splits.items()}
        assert 250 <= sum(sizes.values()) <= 400, (tag, sizes)  # a sample, never the whole set (1004)
        for split, rows in splits.items():  # the same ids and labels in every language (Flores is parallel)
            assert [(r.id, r.label) for r in rows] == [(r.id, r.label) for r in corpus["hau_Latn"][split]]
    attribution = (DEMO_SAMPLE / "ATTRIBUTION.md").read_text()
    assert "CC BY-SA 4.0" in attribution and "SIB-200" in attribution and "Flores-200" in attribution


def test_a_learner_trained_on_the_demo_pool_beats_chance_on_its_heldout_set():
    """The point of real sentences: the demo's learner has something to learn."""
    from sklearn.metrics import f1_score

    from annotation.corpora import DEMO_SAMPLE, labels_of, load_sib200
    from learner.backends import make_classifier

    for tag, splits in load_sib200(DEMO_SAMPLE, ["hau_Latn", "amh_Ethi"]).items():
        classes = labels_of(DEMO_SAMPLE, tag)
        model = make_classifier("ngram", classes)
        model.fit([r.text for r in splits["train"]], [r.label for r in splits["train"]])
        predicted = [classes[i] for i in model.predict_proba([r.text for r in splits["test"]]).argmax(axis=1)]
        score = f1_score([r.label for r in splits["test"]], predicted, average="macro")
        assert score > 2 / len(classes), (tag, score)  # chance is about 1/7


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
