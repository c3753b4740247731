"""Production settings: refuse to start without a real secret key; pass ``check --deploy``."""
from django.core.exceptions import ImproperlyConfigured

from parity.settings.base import *  # noqa: F403
from parity.settings.base import env

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Production settings never generate one: export SECRET_KEY to a long "
        "random value (python -c 'from django.core.management.utils import get_random_secret_key as g; "
        "print(g())') before starting Parity."
    )
_EXAMPLE_KEYS = {"change-me-to-a-long-random-value"}
_example = BASE_DIR / ".env.example"  # noqa: F405
if _example.exists():
    _EXAMPLE_KEYS |= {line.split("=", 1)[1].strip() for line in _example.read_text().splitlines()
                      if line.startswith("SECRET_KEY=")}
if SECRET_KEY in _EXAMPLE_KEYS or SECRET_KEY.startswith("django-insecure-") or "change-me" in SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the example value from .env.example (or another placeholder): anyone can read it and "
        "sign sessions and password-reset links. Export a long random value instead."
    )
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
