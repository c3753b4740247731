"""HTML pages of the learner app."""
app_name = "learner"
urlpatterns: list = []
