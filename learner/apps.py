from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearnerConfig(AppConfig):
    name = "learner"
    verbose_name = _("Learner")

    def ready(self) -> None:
        """Model suggestions in the annotation app come from the champion (annotation.suggestions)."""
        from annotation.suggestions import suggester_register
        from learner.suggestions import ChampionSuggester

        suggester_register(ChampionSuggester())
