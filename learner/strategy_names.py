"""The names of the sampling strategies, importable without torch (validation in the API and CLI
should not pull a deep-learning stack into every web process)."""

#: every strategy the sampling service accepts
STRATEGIES = ("entropy", "least_confidence", "margin", "bald", "diversity", "random", "stratified_random",
              "coldstart")
