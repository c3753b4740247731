"""Signals other apps listen to, so annotation never imports their quality rules directly."""
from django.dispatch import Signal

# Sent inside the submitting transaction with ``annotation`` (the new Annotation), ``assignment`` and
# ``membership`` (the pool membership the evaluator works in, read by the submit); receivers (e.g.
# control-item scoring in evaluators) must be quick and may raise to refuse the submission.
annotation_submitted = Signal()
