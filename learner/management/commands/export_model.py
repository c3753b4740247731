"""Copy a language's champion out of the platform as a plain folder.

For the transformer backend the folder is a peft adapter directory: load it anywhere with
``PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(<backbone>,
num_labels=...), DIR)``; ``parity.json`` says which backbone and label order it expects.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from learner.artifacts import materialise
from learner.management.commands.retrain import language_by_tag, project_by_slug
from learner.models import ModelVersion
from learner.selectors import champion_for


class Command(BaseCommand):
    help = "Export a language's champion (or a given version) as a folder usable outside the platform."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--language", required=True)
        parser.add_argument("--out", required=True, help="target folder (must be empty or absent)")
        parser.add_argument("--model-version", type=int, help="a model version id instead of the champion")

    def handle(self, *args, **options):
        project = project_by_slug(options["project"])
        language = language_by_tag(project, options["language"])
        if options["model_version"]:
            version = ModelVersion.objects.filter(
                pk=options["model_version"], project=project, language=language).first()
        else:
            version = champion_for(project=project, language=language)
        if version is None:
            raise CommandError(f"no {'such version' if options['version'] else 'champion'} for {language.tag}")
        out = Path(options["out"])
        if out.exists() and any(out.iterdir()):
            raise CommandError(f"{out} is not empty")
        try:
            source = materialise(version.adapter_path)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        tmp = out.with_name(out.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp)
        (tmp / "registry.json").write_text(json.dumps({
            "project": project.slug, "language": language.tag, "version": version.pk, "backend": version.backend,
            "backbone": version.backbone, "metrics": version.metrics,
            "label_snapshot_hash": version.label_snapshot_hash,
            "guideline_version": version.guideline_version, "n_labels": version.n_labels,
            "classes": list(project.labels.values_list("value", flat=True)),
        }, indent=2, ensure_ascii=False), encoding="utf-8")
        if out.exists():
            out.rmdir()
        tmp.rename(out)
        self.stdout.write(f"exported v{version.pk} ({version.backend}, {version.status}) to {out}")
