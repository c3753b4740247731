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
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


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
        skip_postgeneration_save = True

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


# --- evaluators: pools, calibration rounds, roles (added for tests/evaluators) -------------------


def pool(project: Project | None = None, lang: Language | None = None, **rules) -> Pool:
    """A pool of ``project`` × ``lang`` with the given rules (control items off unless asked)."""
    from evaluators.services import pool_get_or_create

    rules.setdefault("control_rate", 0.0)
    return pool_get_or_create(project=project or ProjectFactory(), language=lang or language(), **rules)


def calibration_round(pool_: Pool, golds: list[tuple[str, str, str]] | None = None, **kwargs):
    """A calibration round of (text, reference label, explanation) gold items; 10 by default."""
    from evaluators.services import GoldItem, calibration_round_create

    if golds is None:
        golds = [(f"gold sentence {i}", TOPICS[i % len(TOPICS)], f"because of reason {i}") for i in range(10)]
    return calibration_round_create(pool=pool_, items=[GoldItem(*g) for g in golds], **kwargs)


def member(pool_: Pool, username: str | None = None, state: str = PoolMembership.State.INVITED, **user_fields):
    """A user invited into ``pool_`` (and moved straight to ``state`` when asked)."""
    from evaluators.services import membership_invite

    user = UserFactory(**({"username": username} if username else {}), **user_fields)
    membership = membership_invite(pool=pool_, user=user)
    if state != PoolMembership.State.INVITED:
        PoolMembership.objects.filter(pk=membership.pk).update(state=state)
        membership.refresh_from_db()
    return membership


def pool_admin(pool_: Pool | None = None, username: str | None = None, email: str = "admin@example.org"):
    """A pool manager (the "pool managers" group), listed as a manager of ``pool_`` when given."""
    from parity.access import POOL_MANAGERS, role_grant

    user = UserFactory(**({"username": username} if username else {}), email=email)
    role_grant(user=user, role=POOL_MANAGERS, obj=pool_)
    return user


def admin_user(username: str | None = None, **fields):
    """A platform admin: the "admins" group (not is_staff, which grants nothing by itself)."""
    from parity.access import ADMINS, role_grant

    user = UserFactory(**({"username": username} if username else {}), **fields)
    role_grant(user=user, role=ADMINS)
    return user


def role_user(role: str, obj=None, username: str | None = None, **fields):
    """A user holding ``role`` on ``obj`` (a Project for project managers, a Pool for pool managers and
    reviewers), through parity.access.role_grant."""
    from parity.access import role_grant

    user = UserFactory(**({"username": username} if username else {}), **fields)
    role_grant(user=user, role=role, obj=obj)
    return user


def learner_project(
    tags: tuple[str, ...] = ("hau_Latn", "amh_Ethi"), *, pool: int = 60, labeled: int | dict = 30, heldout: int = 30,
    evaluators: int = 1, seed: int = 0, topic_share: float = 0.5,
):
    """A project with synthetic, learnable items per language: ``pool`` pool items of which ``labeled`` have
    an approved label (a number, or one per tag), ``heldout`` held-out items with reference labels, and
    ``evaluators`` qualified evaluators per language. Returns (project, {tag: [(item, true label)]})."""
    from annotation.corpora import synthetic_corpus
    from annotation.models import ApprovedLabel

    labels = TOPICS
    corpus = synthetic_corpus(list(tags), labels=labels, sizes={"train": pool, "test": heldout}, seed=seed,
                              topic_share=topic_share)
    project = ProjectFactory(labels=labels)
    truth = {}
    for tag in tags:
        lang = language(tag)
        project.languages.add(lang)
        for n in range(evaluators):
            qualified_evaluator(project, lang, username=f"{project.slug}-{tag}-{n}")
        n_labeled = labeled[tag] if isinstance(labeled, dict) else labeled
        rows = []
        for i, row in enumerate(corpus[tag]["train"]):
            item = ItemFactory(project=project, language=lang, text=row.text, external_id=f"{tag}:{row.id}")
            if i < n_labeled:
                ApprovedLabel.objects.create(item=item, label=row.label, method=ApprovedLabel.Method.MAJORITY)
                Item.objects.filter(pk=item.pk).update(status=Item.Status.APPROVED)
            rows.append((item, row.label))
        for row in corpus[tag].get("test", []):
            ItemFactory(project=project, language=lang, text=row.text, split=Item.Split.HELDOUT,
                        reference_label=row.label, external_id=f"{tag}:test:{row.id}")
        truth[tag] = rows
    return project, truth


def approve(item, label: str):
    """Approve ``item`` with ``label`` as if aggregation had agreed."""
    from annotation.models import ApprovedLabel

    ApprovedLabel.objects.update_or_create(item=item, defaults={"label": label,
                                                                "method": ApprovedLabel.Method.MAJORITY})
    Item.objects.filter(pk=item.pk).update(status=Item.Status.APPROVED)
