"""Every model of the platform is in the admin console, and every list page renders."""
import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import admin_user

APP_MODELS = [m for app in ("evaluators", "annotation", "learner") for m in apps.get_app_config(app).get_models()]


@pytest.mark.parametrize("model", APP_MODELS, ids=lambda m: m._meta.label)
def test_model_is_registered(model):
    assert model in admin.site._registry


@pytest.mark.django_db
def test_every_changelist_renders_for_a_superuser(client):
    from django.core.management import call_command

    call_command("demo", items_per_language=14)
    client.force_login(admin_user(is_staff=True))
    for model in APP_MODELS:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
