"""Signals the apps above ``evaluators`` listen to, so that ``evaluators`` never imports them."""
from django.dispatch import Signal

# Sent inside the transaction that moves a membership away from "qualified" (suspend, remove,
# re-calibrate) with ``membership`` and ``reason``. The annotation app gives the member's leases back
# and aggregates again (annotation.receivers); receivers run in the same transaction.
membership_left_work = Signal()
