"""``manage.py import_items FILE --project SLUG --as USERNAME [--format csv|tsv|jsonl|labelstudio]``.

Validates the whole file first (every bad row is listed, nothing is stored), then imports it in
batches inside one transaction with a progress bar. Exit status 2 for a rejected file.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotation.importing import FORMATS, ImportBusy, ImportFileError, items_import
from annotation.models import Project
from parity import access


class Command(BaseCommand):
    help = "Import items from CSV, TSV, JSONL or a Label Studio JSON export into a project."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--format", choices=FORMATS, help="default: from the file extension")
        parser.add_argument("--no-progress", action="store_true")
        access.add_acting_user_argument(parser)

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with slug {options['project']!r}")
        access.acting_user(options, access.MANAGE_PROJECT, project)
        bars: list[tqdm] = []

        def progress(stage: str, total: int | None):
            if options["no_progress"]:
                return None
            bar = tqdm(total=total, desc=stage, unit=" rows", file=self.stderr._out, leave=False)
            bars.append(bar)
            return bar.update

        try:
            result = items_import(project=project, path=options["file"], fmt=options["format"], progress=progress)
        except ImportFileError as exc:
            for bar in bars:
                bar.close()
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} bad row(s): nothing was imported", returncode=2) from exc
        except ImportBusy as exc:
            raise CommandError(str(exc), returncode=3) from exc
        except (ValidationError, OSError) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)])), returncode=2) from exc
        finally:
            for bar in bars:
                bar.close()
        self.stdout.write(self.style.SUCCESS(
            f"{result.created} item(s) imported into {project.slug} from {result.rows} row(s); "
            f"skipped {result.skipped_existing} already in the project and "
            f"{result.skipped_duplicate} repeated in the file."
        ))
