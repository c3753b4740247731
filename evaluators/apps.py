from django.apps import AppConfig


class EvaluatorsConfig(AppConfig):
    """Signal wiring with the annotation app is done from above, in AnnotationConfig.ready."""

    name = "evaluators"
    verbose_name = "Evaluators, pools and guidelines"
