"""Setting up a whole working project in one call: the demo workspace and the simulation both use it.

It goes through the same services as the web app (language validation, pools, guideline
publishing, membership transitions), so a seeded workspace behaves exactly like a hand-made one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from annotation.corpora import Row
from annotation.models import Item, Project
from annotation.services import NewItem, items_create, project_create
from evaluators.models import Language, PoolMembership
from evaluators.services import (
    GoldItem,
    calibration_round_create,
    evaluator_create,
    guideline_acknowledge,
    guideline_draft,
    guideline_publish,
    language_from_tag,
    membership_invite,
    membership_transition,
    pool_get_or_create,
)

GUIDELINE = """# Topic classification

Read the sentence and choose the **one topic** it is mostly about.

| label | choose it when the sentence is about |
| --- | --- |
| entertainment | films, music, celebrities, shows |
| geography | places, landscapes, climate, countries |
| health | illness, medicine, the body, wellbeing |
| politics | governments, elections, laws, diplomacy |
| science/technology | research, inventions, computers, space |
| sports | games, athletes, competitions |
| travel | trips, tourism, transport, visas |

If the text is not in the pool's language, is unreadable or offensive, **flag** it instead of guessing.
"""


@dataclass
class Workspace:
    project: Project
    languages: list[Language]
    evaluators: dict[str, list] = field(default_factory=dict)  # language tag -> users
    truth: dict[int, str] = field(default_factory=dict)  # item id -> gold label (simulation only)


@transaction.atomic
def workspace_create(
    *, slug: str, name: str, corpus: dict[str, dict[str, list[Row]]], labels: list[str],
    evaluators_per_language: int = 3, passwords: dict[str, str] | None = None, overlap: int = 3,
    control_rate: float = 0.05, item_source: str = Item.Source.DEMO, username_prefix: str = "",
    calibrating_per_language: int = 0, gold_per_language: int = 0, aggregate_when_short: bool = False,
) -> Workspace:
    """``gold_per_language`` rows of each language's ``dev`` split become a calibration gold bank (half)
    and control items (the other half); the last ``calibrating_per_language`` evaluators stay invited and
    must calibrate. ``aggregate_when_short`` lets a language with fewer evaluators than ``overlap`` still
    approve labels (see annotation.capacity)."""
    languages = [language_from_tag(tag) for tag in corpus]
    project = project_create(name=name, slug=slug, labels=labels, languages=languages, overlap=overlap,
                             aggregate_when_short=aggregate_when_short)
    version = guideline_publish(version=guideline_draft(project=project, body=GUIDELINE, title=f"{name} guideline"))
    workspace = Workspace(project=project, languages=languages)
    user_model = get_user_model()
    for language in languages:
        pool = pool_get_or_create(project=project, language=language, control_rate=control_rate)
        users = []
        for n in range(1, evaluators_per_language + 1):
            username = f"{username_prefix}{language.code}-{n}"
            user = user_model.objects.filter(username=username).first()
            if user is None:
                password = (passwords or {}).get(username)
                user = evaluator_create(username=username, password=password, languages=[language]).user
            membership = membership_invite(pool=pool, user=user, reason="seeded workspace")
            if n > evaluators_per_language - calibrating_per_language:
                users.append(user)
                continue  # invited: qualifies through the calibration round
            if membership.state != PoolMembership.State.QUALIFIED:
                membership_transition(membership=membership, to_state=PoolMembership.State.QUALIFIED,
                                      reason="seeded workspace: qualified without calibration")
            guideline_acknowledge(user=user, version=version)
            users.append(user)
        workspace.evaluators[language.tag] = users
        rows = corpus[language.tag]
        gold = rows.get("dev", [])[:gold_per_language]
        if gold:
            _seed_gold(project=project, pool=pool, language=language, rows=gold, source=item_source)
        # Held-out first: a sentence in both splits stays out of the pool, so evaluation never leaks.
        for split_name, split in (("test", Item.Split.HELDOUT), ("train", Item.Split.POOL)):
            batch = rows.get(split_name, [])
            created = items_create(project=project, source=item_source, items=[
                NewItem(text=row.text, language=language, external_id=f"{language.tag}:{split_name}:{row.id}",
                        split=split, reference_label=row.label if split == Item.Split.HELDOUT else "")
                for row in batch
            ])
            if split == Item.Split.POOL:
                by_external = {f"{language.tag}:train:{row.id}": row.label for row in batch}
                workspace.truth.update({item.pk: by_external[item.external_id] for item in created})
    return workspace


def _seed_gold(*, project: Project, pool, language: Language, rows: list[Row], source: str) -> None:
    """A calibration gold bank and the same number of control items, from rows with known labels. Each
    attempt draws a third of the bank, so all of the pool's attempts see fresh gold."""
    half = max(1, len(rows) // 2)
    per_attempt = max(1, min(10, half // max(1, pool.max_attempts)))
    calibration_round_create(pool=pool, title=f"{language.name} calibration", items_per_attempt=per_attempt, items=[
        GoldItem(text=row.text, reference_label=row.label,
                 explanation=f"The sentence is about {row.label}: see the guideline's table.")
        for row in rows[:half]
    ])
    items_create(project=project, source=source, items=[
        NewItem(text=row.text, language=language, external_id=f"{language.tag}:control:{row.id}",
                reference_label=row.label, is_control=True)
        for row in rows[half:]
    ])
