"""Train a project's languages now, in this process, with a progress bar."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotation.models import Project
from evaluators.models import Language
from learner.backends import BackendError
from learner.models import Backend, RunStatus
from learner.services import training_run_create, training_run_execute
from parity import access


def language_by_tag(project: Project, tag: str) -> Language:
    code, _, script = tag.partition("_")
    language = project.languages.filter(code=code, **({"script": script.split("-")[0]} if script else {})).first()
    if language is None:
        known = ", ".join(lang.tag for lang in project.languages.all()) or "none"
        raise CommandError(f"project {project.slug!r} has no language {tag!r} (it has: {known})")
    return language


def project_by_slug(slug: str) -> Project:
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"no project with slug {slug!r}")
    return project


class Command(BaseCommand):
    help = "Train a candidate for each given language and promote it if it beats the champion."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        access.add_acting_user_argument(parser)
        parser.add_argument("--language", action="append", default=[],
                            help="language tag such as hau_Latn (repeatable; default: all the project's languages)")
        parser.add_argument("--backend", choices=Backend.values, default="ngram")
        parser.add_argument("--epochs", type=int, help="transformer: training epochs")
        parser.add_argument("--shared-adapter", action="store_true", help="transformer: one adapter for all languages")
        parser.add_argument("--queue", action="store_true", help="send the run to the workers instead of training here")

    def handle(self, *args, **options):
        project = project_by_slug(options["project"])
        access.acting_user(options, access.MANAGE_PROJECT, project)
        languages = [language_by_tag(project, tag) for tag in options["language"]] or None
        config = {}
        if options["epochs"]:
            config[options["backend"]] = {"epochs": options["epochs"]}
        if options["shared_adapter"]:
            config["shared_adapter"] = True
        run = training_run_create(project=project, languages=languages, backend=options["backend"], config=config,
                                  trigger="cli", dispatch=options["queue"])
        if options["queue"]:
            self.stdout.write(f"training run {run.pk} queued")
            return
        with tqdm(total=100, desc=f"run {run.pk}", unit="%", file=self.stderr._out) as bar:
            def progress(fraction: float, message: str) -> None:
                bar.set_postfix_str(message)
                bar.update(round(fraction * 100) - bar.n)

            try:
                run = training_run_execute(run_id=run.pk, on_progress=progress)
            except BackendError as exc:
                raise CommandError(str(exc)) from exc
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"training run {run.pk} failed: {run.message}")
        for version in run.model_versions.select_related("language").order_by("language__code"):
            f1 = "-" if version.macro_f1 is None else f"{version.macro_f1:.3f}"
            self.stdout.write(f"{version.language.tag}: v{version.pk} macro-F1 {f1} {version.status}: "
                              f"{version.status_reason}")
