from django.apps import AppConfig


class EvaluatorsConfig(AppConfig):
    name = "evaluators"
    verbose_name = "Evaluators, pools and guidelines"
