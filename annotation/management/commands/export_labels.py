"""``manage.py export_labels --project SLUG --format jsonl|csv|tsv|hf --out PATH [--language hau_Latn]``."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotation.exports import EXPORT_FORMATS, export_labels
from annotation.models import Project
from evaluators.languages import LanguageCodeError, parse_tag
from evaluators.models import Language


class Command(BaseCommand):
    help = "Export a project's approved labels with provenance (pseudonymous evaluators, guideline, agreement)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--format", choices=EXPORT_FORMATS, default="jsonl")
        parser.add_argument("--out", required=True, help="a file for jsonl/csv/tsv, a folder for hf")
        parser.add_argument("--language", help="only this language, e.g. hau_Latn")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with slug {options['project']!r}")
        language = None
        if options["language"]:
            try:
                spec = parse_tag(options["language"])
            except LanguageCodeError as exc:
                raise CommandError(str(exc)) from exc
            language = Language.objects.filter(code=spec.code, script=spec.script).first()
            if language is None:
                raise CommandError(f"no items in {spec.tag}")
        count = export_labels(project=project, fmt=options["format"], out=options["out"], language=language)
        self.stdout.write(self.style.SUCCESS(f"{count} approved label(s) written to {options['out']}"))
