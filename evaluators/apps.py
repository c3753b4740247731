from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluatorsConfig(AppConfig):
    """Signal wiring with the annotation app is done from above, in AnnotationConfig.ready."""

    name = "evaluators"
    verbose_name = _("Evaluators, pools and guidelines")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from parity import access  # registers the object permissions with rules

        post_migrate.connect(access.role_groups_sync, sender=self, dispatch_uid="parity.role_groups_sync")
