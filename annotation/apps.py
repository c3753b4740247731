from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnnotationConfig(AppConfig):
    name = "annotation"
    verbose_name = _("Annotation")

    def ready(self) -> None:
        """Wire the two apps together from above: ``evaluators`` imports nothing from ``annotation``."""
        from annotation.receivers import on_membership_left_work
        from annotation.signals import annotation_submitted
        from evaluators.receivers import on_annotation_submitted
        from evaluators.signals import membership_left_work

        annotation_submitted.connect(
            on_annotation_submitted, sender=None, dispatch_uid="evaluators.control_answer_record"
        )
        membership_left_work.connect(on_membership_left_work, dispatch_uid="annotation.leases_release_for_member")
