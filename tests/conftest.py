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
def _fresh_cache(request):
    """Throttle counters and pending-job marks live in the shared (database) cache: each test that
    uses the database starts with an empty one."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
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
