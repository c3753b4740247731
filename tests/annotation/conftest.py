"""Fixtures of the annotation tests: a project with a published guideline, a language and evaluators."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.test import TestCase

from annotation.models import Project
from annotation.services import annotation_submit, assignment_next
from tests.factories import ItemFactory, ProjectFactory, language, published_guideline, qualified_evaluator


@dataclass
class Setup:
    project: Project
    lang: object
    evaluators: list


def make_setup(*, overlap: int = 3, evaluators: int = 3, items: int = 0, labels=None, tag: str = "hau_Latn",
               **project_options) -> Setup:
    project = ProjectFactory(overlap=overlap, labels=labels, **project_options)
    lang = language(tag)
    project.languages.add(lang)
    published_guideline(project)
    users = [qualified_evaluator(project, lang) for _ in range(evaluators)]
    for _ in range(items):
        ItemFactory(project=project, language=lang)
    return Setup(project=project, lang=lang, evaluators=users)


def label_next(user, label: str, project=None):
    """Take the user's next assignment and submit ``label``; returns the annotation (None if no work).

    The submission commits as a request's would, so the background aggregation it asks for runs
    (in-process: tasks are eager in the test settings)."""
    assignment = assignment_next(evaluator=user, project=project)
    if assignment is None:
        return None
    with TestCase.captureOnCommitCallbacks(execute=True):
        return annotation_submit(evaluator=user, assignment_id=assignment.pk, label=label,
                                 idempotency_key=uuid.uuid4().hex, time_spent_ms=1000)


