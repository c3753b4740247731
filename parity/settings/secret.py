"""Where the development secret key comes from.

No key is written in the code: on first use a random key is generated into an ignored local file
(``var/secret_key``) so sessions survive restarts of ``make run`` without anyone committing a key.
"""
from __future__ import annotations

import os
from pathlib import Path

from django.core.management.utils import get_random_secret_key


def local_secret_key(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return key
