import pytest


@pytest.fixture(autouse=True)
def _artifacts_in_tmp(settings, tmp_path):
    """Every test writes model artifacts into its own folder."""
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                      "OPTIONS": {"location": str(tmp_path / "artifacts")}},
    }
    from django.core.files.storage import storages

    storages._storages.pop("artifacts", None)
    yield
    storages._storages.pop("artifacts", None)
