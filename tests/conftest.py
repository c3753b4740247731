import pytest


@pytest.fixture(autouse=True)
def _artifacts_in_tmp(settings, tmp_path):
    """Every test writes model artifacts and local state into its own folder."""
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    settings.VAR_DIR = tmp_path / "var"  # e.g. demo credentials never overwrite a developer's
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                      "OPTIONS": {"location": str(tmp_path / "artifacts")}},
    }
    from django.core.files.storage import storages

    storages._storages.pop("artifacts", None)
    yield
    storages._storages.pop("artifacts", None)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Pending-job marks and throttle counters never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _interface_language_reset():
    """LocaleMiddleware activates a request's language in the thread and leaves it there; without this
    a test that asks a page in Hausa would make the next test's messages Hausa too."""
    from django.utils import translation

    yield
    translation.deactivate()
