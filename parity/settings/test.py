"""Settings for the test suite: same code paths, fast hashing, tasks run in-process."""
from parity.settings.base import *  # noqa: F403
from parity.settings.base import VAR_DIR, env
from parity.settings.secret import local_secret_key

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key(VAR_DIR)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Serve static files from the apps' folders without a collectstatic step (as runserver does).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
