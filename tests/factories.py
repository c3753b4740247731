"""factory_boy factories shared by every test package."""
from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from annotation.hashing import content_hash
from annotation.models import Item, Label, Project
from evaluators.models import EvaluatorProfile, Language, Pool, PoolMembership
from evaluators.services import guideline_acknowledge, guideline_draft, guideline_publish, language_get_or_create

TOPICS = ["politics", "sports", "health"]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")


class EvaluatorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluatorProfile

    user = factory.SubFactory(UserFactory)
    pseudonym = factory.Sequence(lambda n: f"ev-{n:06d}")


def language(tag: str = "hau_Latn") -> Language:
    code, script = tag.split("_")
    return language_get_or_create(code=code, script=script)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    overlap = 3

    @factory.post_generation
    def labels(self, create, extracted, **kwargs):
        for order, value in enumerate(extracted or TOPICS):
            Label.objects.create(project=self, value=value, order=order)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    project = factory.SubFactory(ProjectFactory)
    language = factory.LazyFunction(language)
    text = factory.Sequence(lambda n: f"sentence number {n}")
    content_hash = factory.LazyAttribute(lambda o: content_hash(o.text))


def published_guideline(project: Project, body: str = "# Guideline\nPick the topic."):
    return guideline_publish(version=guideline_draft(project=project, body=body))


def qualified_evaluator(project: Project, lang: Language, username: str | None = None, acknowledge: bool = True):
    """A user who is a qualified member of the project's pool for ``lang`` (guideline acknowledged)."""
    user = UserFactory(**({"username": username} if username else {}))
    EvaluatorProfileFactory(user=user) if not hasattr(user, "evaluator") else None
    pool, _ = Pool.objects.get_or_create(project=project, language=lang, defaults={"control_rate": 0.0})
    PoolMembership.objects.update_or_create(pool=pool, user=user, defaults={"state": PoolMembership.State.QUALIFIED})
    if acknowledge:
        from evaluators.selectors import guideline_current

        version = guideline_current(project=project) or published_guideline(project)
        guideline_acknowledge(user=user, version=version)
    return user
