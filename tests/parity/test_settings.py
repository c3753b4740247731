"""Production settings refuse to start without a secret and pass Django's deploy checks."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    environment.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_production_without_secret_key_fails_with_clear_message():
    result = _manage("check", DJANGO_SETTINGS_MODULE="parity.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_check_deploy_passes_with_a_secret_key():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_SETTINGS_MODULE="parity.settings.production", SECRET_KEY="k" * 20 + "-Zq8!x3Lr#v9Tt2@pW6sY1uE4oI7aS0dF",
        ALLOWED_HOSTS="parity.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_settings_generate_an_ignored_secret_key(tmp_path):
    from parity.settings.secret import local_secret_key

    first = local_secret_key(tmp_path)
    assert len(first) >= 50
    assert local_secret_key(tmp_path) == first  # stable across restarts
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
    ignored = subprocess.run(["git", "check-ignore", "var/secret_key"], cwd=ROOT, capture_output=True)
    assert ignored.returncode == 0


def test_production_refuses_the_example_secret_key():
    example = next(line.split("=", 1)[1] for line in (ROOT / ".env.example").read_text().splitlines()
                   if line.startswith("SECRET_KEY="))
    for key in (example, "django-insecure-" + "x" * 50):
        result = _manage("check", DJANGO_SETTINGS_MODULE="parity.settings.production", SECRET_KEY=key,
                         ALLOWED_HOSTS="parity.example.org")
        assert result.returncode != 0 and "example value" in result.stderr


def test_production_sends_a_content_security_policy_without_inline_script():
    from django.conf import settings

    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["script-src"] == ["'self'"] and "'unsafe-inline'" not in directives["default-src"]
