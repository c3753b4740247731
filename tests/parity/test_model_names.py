"""The names the admin derives from the models (column headings, form labels, filter titles, the
model names in the index and breadcrumbs) are translatable, and the admin shows them translated.

Django names a field after its attribute ("pass_mark" -> "pass mark") and a model after its class
("PoolMembership" -> "pool membership", plural + "s") unless ``verbose_name`` says otherwise: those
derived names are plain English strings that no catalogue can hold, so every field and every model
of the platform's apps carries a ``gettext_lazy`` name.
"""
from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tests.parity.test_translations import code_folders


def _ours():
    labels = {folder.name for folder in code_folders()}
    return [config for config in apps.get_app_configs() if config.name in labels]


def untranslatable_names(model_list) -> list[str]:
    """``Model.field`` (or ``Model Meta.verbose_name``) for each name of these models that is a plain string."""
    found = []
    for model in model_list:
        for attribute in ("verbose_name", "verbose_name_plural"):
            # original_attrs holds what Meta declares: a missing name is derived, hence plain English
            # (Django's derived plural is a lazy "{}s" around the English singular: not translatable either).
            value = model._meta.original_attrs.get(attribute)
            if not isinstance(value, Promise):
                found.append(f"{model.__name__} Meta.{attribute}")
        for field in model._meta.get_fields():
            if field.auto_created:  # the implicit id, reverse relations: Django's own
                continue
            if not isinstance(field.verbose_name, Promise):
                found.append(f"{model.__name__}.{field.name}: {field.verbose_name!r}")
    return found


def test_the_platforms_apps_are_all_checked():
    names = {config.name for config in _ours()}
    assert {"annotation", "evaluators", "learner"} <= names
    assert sum(len(list(config.get_models())) for config in _ours()) >= 30


def test_every_model_field_and_model_has_a_translatable_name():
    found = untranslatable_names([m for config in _ours() for m in config.get_models()])
    assert found == [], ("model names the admin shows in English only (give them verbose_name=_('...'), run "
                         "`manage.py makemigrations` and `make messages`):\n" + "\n".join(found))


@isolate_apps("annotation")
def test_the_name_check_catches_plain_and_derived_names():
    class Marked(models.Model):
        pass_mark = models.FloatField(verbose_name=_("pass mark"))
        project = models.ForeignKey("annotation.Project", verbose_name=_("project"), on_delete=models.CASCADE)

        class Meta:
            app_label = "annotation"
            verbose_name = _("marked")
            verbose_name_plural = _("marked ones")

        def __str__(self) -> str:
            return "marked"

    class Unmarked(models.Model):
        control_rate = models.FloatField()  # derived: "control rate"
        note = models.TextField(verbose_name="note")  # explicit but plain
        project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE)

        class Meta:
            app_label = "annotation"
            verbose_name = "unmarked"

        def __str__(self) -> str:
            return "unmarked"

    assert untranslatable_names([Marked]) == []
    assert untranslatable_names([Unmarked]) == [
        "Unmarked Meta.verbose_name",
        "Unmarked Meta.verbose_name_plural",
        "Unmarked.control_rate: 'control rate'",
        "Unmarked.note: 'note'",
        "Unmarked.project: 'project'",
    ]


@pytest.mark.django_db
def test_the_pool_changelist_headings_and_filters_are_french(client):
    from tests import factories as f

    f.pool(f.ProjectFactory(slug="topics", name="Topics"), f.language("hau_Latn"), dialect="Kano")
    f.pool(f.ProjectFactory(slug="news", name="News"), f.language("swh_Latn"))  # two of each: filters show
    client.force_login(f.admin_user(username="root", is_staff=True))
    client.cookies["django_language"] = "fr"
    html = client.get("/admin/evaluators/pool/").content.decode()
    # Column headings (the admin capitalises them), the filter titles, the model's name in the title.
    for french in ("Projet", "Langue", "Dialecte", "Recouvrement", "Seuil de réussite", "Taux de contrôle",
                   "Seuil de précision", "Par projet", "Par langue",
                   "Sélectionnez l’objet groupe à changer"):
        assert french in html, french
    for english in ("Pass mark", "Control rate", "Accuracy floor", ">Dialect<", "By project", "Select pool to change"):
        assert english not in html, english


@pytest.mark.django_db
def test_the_project_form_labels_are_french(client):
    from tests import factories as f

    project = f.ProjectFactory(slug="topics", name="Topics")
    client.force_login(f.admin_user(username="root", is_staff=True))
    client.cookies["django_language"] = "fr"
    html = client.get(f"/admin/annotation/project/{project.pk}/change/").content.decode()
    for french in ("Type de schéma", "Approbation automatique", "Confiance minimale",
                   "Minimum d’étiquettes en cas d’effectif insuffisant", "Responsables"):
        assert french in html, french
    assert "Schema type" not in html and "Min confidence" not in html and "Short min labels" not in html
