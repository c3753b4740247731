import pytest
from django.contrib.auth import get_user_model

from annotation.models import Item
from tests.factories import ItemFactory, ProjectFactory, language, published_guideline, qualified_evaluator


@pytest.fixture
def project(db):
    project = ProjectFactory(slug="topics", name="Topics")
    hau = language("hau_Latn")
    project.languages.add(hau)
    published_guideline(project, body="# Guideline\n\nPick the **topic**.")
    return project


@pytest.fixture
def hausa(db):
    return language("hau_Latn")


@pytest.fixture
def urdu(db):
    return language("urd_Arab")


@pytest.fixture
def evaluator(project, hausa):
    return qualified_evaluator(project, hausa, username="amina")


@pytest.fixture
def staff(db):
    from parity.access import ADMINS, role_grant

    user = get_user_model().objects.create_user(username="boss", password="pw-for-tests", is_staff=True)
    role_grant(user=user, role=ADMINS)
    return user


@pytest.fixture
def items(project, hausa):
    return [ItemFactory(project=project, language=hausa, text=f"labari {n}", priority=10 - n) for n in range(3)]


@pytest.fixture
def ev_client(client, evaluator):
    client.force_login(evaluator)
    return client


def open_item(project, lang, text):
    return ItemFactory(project=project, language=lang, text=text, status=Item.Status.OPEN)
