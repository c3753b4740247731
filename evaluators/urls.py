"""HTML pages of the evaluators app."""
app_name = "evaluators"
urlpatterns: list = []
