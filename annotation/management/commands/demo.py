"""Seed the demo workspace once: languages (one right-to-left), pools, a published guideline,
a project with a label set, items, an admin, a reviewer and evaluators with printed logins.

The sentences are real (the SIB-200 sample shipped in annotation/demo_data), so calibration can be
passed honestly and the learner has something to learn."""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotation.corpora import DEMO_SAMPLE, CorpusError, load_corpus
from annotation.models import Project
from annotation.workspace import workspace_create

DEMO_SLUG = "demo-topics"
DEFAULT_LANGUAGES = "hau_Latn,amh_Ethi,urd_Arab"


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / "demo_credentials.json"


class Command(BaseCommand):
    help = "Create the demo workspace (once). Logins are written to var/demo_credentials.json."

    def add_arguments(self, parser):
        parser.add_argument("--data", default=str(DEMO_SAMPLE),
                            help="folder in the layout of shared/data/sib200 (default: the SIB-200 sample "
                                 "shipped in annotation/demo_data/sib200, with hau_Latn, amh_Ethi and urd_Arab)")
        parser.add_argument("--languages", default=DEFAULT_LANGUAGES, help="comma-separated tags, e.g. hau_Latn")
        parser.add_argument("--items-per-language", type=int, default=240,
                            help="pool sentences per language (the shipped sample holds 240)")

    def handle(self, *args, **options):
        if Project.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write("The demo workspace exists already.")
            self._print_logins()
            return
        tags = [t.strip() for t in options["languages"].split(",") if t.strip()]
        n = options["items_per_language"]
        if n < 1:
            raise CommandError("--items-per-language must be at least 1")
        try:
            corpus, labels = load_corpus(options["data"] or DEMO_SAMPLE, tags,
                                         sizes={"train": n, "dev": 60, "test": max(7, n // 3)})
        except CorpusError as exc:
            raise CommandError(str(exc)) from exc
        usernames = ["admin", "reviewer"] + [f"{tag.split('_')[0]}-{n}" for tag in tags for n in (1, 2, 3, 4)]
        passwords = {name: secrets.token_urlsafe(9) for name in usernames}
        # Each language's fourth evaluator starts invited and qualifies through the calibration round
        # (a gold bank of 30: three attempts of 10 fresh items); the other three are qualified already,
        # and control items are mixed into everyone's work. With k = 3 a single suspension would stall a
        # language, so the project aggregates with the labels it can get (at least 2) when it is short.
        workspace = workspace_create(slug=DEMO_SLUG, name="Demo: topic classification", corpus=corpus,
                                     labels=labels, passwords=passwords, evaluators_per_language=4,
                                     calibrating_per_language=1, gold_per_language=60, aggregate_when_short=True)
        user_model = get_user_model()
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser("admin", "admin@localhost", passwords["admin"])
        if not user_model.objects.filter(username="reviewer").exists():
            # A reviewer of every demo language, and nothing more: is_staff opens the admin login,
            # the reviewer role lets them decide items; neither lets them train, promote or publish.
            from parity.access import REVIEWERS, role_grant

            reviewer = user_model.objects.create_user("reviewer", password=passwords["reviewer"], is_staff=True)
            for pool in workspace.project.pools.all():
                role_grant(user=reviewer, role=REVIEWERS, obj=pool)
        path = credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(passwords, indent=2))
        path.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(
            f"Demo workspace '{workspace.project.name}' with {workspace.project.items.count()} items in "
            f"{', '.join(lang.tag for lang in workspace.languages)}."
        ))
        self._print_logins()

    def _print_logins(self) -> None:
        path = credentials_path()
        if not path.exists():
            self.stdout.write("(demo logins were not saved on this machine)")
            return
        for username, password in json.loads(path.read_text()).items():
            self.stdout.write(f"  {username:<12} {password}")
