"""One report allowance per client, shared by the HTML form and the API, kept in the shared cache,
keyed on the client address as seen through TRUSTED_PROXY_COUNT proxies."""
import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import Report
from parity.throttling import client_address
from tests.annotation.conftest import make_setup

pytestmark = pytest.mark.django_db

VALID = {"language": "hau_Latn", "input_text": "Wanene?", "model_output": "sports", "category": "wrong_label",
         "suggested_correction": "", "contact": "", "website": ""}


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.REPORT_THROTTLE_RATE = "5/hour"
    make_setup(overlap=1)


def _form(client, n, **extra):
    return client.post(reverse("annotation:report_create"), {**VALID, "input_text": f"form {n}"}, **extra)


def _api(client, n, **extra):
    return client.post("/api/reports/", {**VALID, "input_text": f"api {n}"}, format="json", **extra)


def test_html_form_is_throttled():
    client = Client()
    codes = [_form(client, n).status_code for n in range(7)]
    assert codes == [302] * 5 + [429, 429]
    assert Report.objects.count() == 5
    assert int(_form(client, 8)["Retry-After"]) > 0


def test_form_and_api_draw_on_one_allowance():
    web, api = Client(), APIClient()
    assert [_form(web, n).status_code for n in range(3)] == [302] * 3
    assert [_api(api, n).status_code for n in range(3)] == [201, 201, 429]
    assert _form(web, 9).status_code == 429


def test_counts_live_in_the_shared_cache_not_the_process():
    """Another worker process opens its own cache connection and sees the same counts."""
    from django.conf import settings
    from django.core.cache import CacheHandler

    assert settings.CACHES["default"]["BACKEND"] in (
        "django.core.cache.backends.db.DatabaseCache", "django.core.cache.backends.redis.RedisCache")
    for n in range(5):
        _api(APIClient(), n)
    other_process = CacheHandler().create_connection("default")
    assert len(other_process.get("throttle_reports_127.0.0.1")) == 5
    assert _api(APIClient(), 99).status_code == 429


def test_forwarded_for_is_ignored_without_trusted_proxies():
    api = APIClient()
    codes = [_api(api, n, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(6)]
    assert codes == [201] * 5 + [429]  # a new X-Forwarded-For per request does not reset the limit


def test_one_trusted_proxy_keys_on_the_address_it_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    api = APIClient(REMOTE_ADDR="10.0.0.1")  # the proxy
    # The client forges a left-most entry; the proxy appends the real address on the right.
    codes = [_api(api, n, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.7").status_code for n in range(6)]
    assert codes == [201] * 5 + [429]
    assert _api(api, 7, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 201  # another client


@pytest.mark.parametrize("count,header,expected", [
    (0, "1.1.1.1", "10.0.0.1"), (1, "1.1.1.1", "1.1.1.1"), (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),
    (2, "6.6.6.6, 1.1.1.1, 10.0.0.2", "1.1.1.1"), (2, "1.1.1.1", "1.1.1.1"), (1, "", "10.0.0.1"),
])
def test_client_address(settings, count, header, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=header)
    assert client_address(request) == expected


def test_honeypot_on_the_form_stores_nothing():
    response = Client().post(reverse("annotation:report_create"), {**VALID, "website": "http://spam.example"})
    assert response.status_code == 200 and not Report.objects.exists()
