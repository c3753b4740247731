"""Development settings: the embedded defaults that ``make run`` uses."""
from parity.settings.base import *  # noqa: F403
from parity.settings.base import VAR_DIR, env
from parity.settings.secret import local_secret_key

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key(VAR_DIR)
