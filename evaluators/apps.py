from django.apps import AppConfig


class EvaluatorsConfig(AppConfig):
    name = "evaluators"
    verbose_name = "Evaluators, pools and guidelines"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from parity import access  # registers the object permissions with rules

        post_migrate.connect(access.role_groups_sync, sender=self, dispatch_uid="parity.role_groups_sync")
        from annotation.signals import annotation_submitted
        from evaluators.receivers import on_annotation_submitted

        annotation_submitted.connect(
            on_annotation_submitted, sender=None, dispatch_uid="evaluators.control_answer_record"
        )
