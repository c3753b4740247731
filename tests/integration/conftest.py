"""Integration tests need real services. On a user's machine they skip with the reason; in CI
(env CI set) a missing service is a failure, never a skip."""
import os

import pytest
from django.db import connection


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI needs this service: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_db():
    require(connection.vendor == "postgresql",
            "needs PostgreSQL: run with DATABASE_URL=postgres://... (the worker must share the test database)")


@pytest.fixture
def redis_broker():
    url = os.environ.get("PARITY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no broker here"
        require(False, f"needs a Redis broker at {url} ({exc.__class__.__name__}); set PARITY_TEST_BROKER_URL")
    return url
