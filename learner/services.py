"""The learner's write API, one module per action; callers import the public names from here.

- ``learner.training``: training runs (create, execute with a heartbeat lease, the retrain schedule)
- ``learner.registry``: champion/candidate registry (promote, rollback, the decision record)
- ``learner.sampling``: sampling runs (budget allocation, pool scoring)
- ``learner.scoring_shards``: one shard of a large pool, merged by the last one to finish
"""

from __future__ import annotations

from learner.conf import training_queue
from learner.registry import model_version_promote, model_version_rollback
from learner.sampling import SAMPLING_STRATEGIES, qualified_capacity, sampling_run_execute
from learner.scoring_shards import scoring_shard_execute
from learner.suggestions import project_suggestions_set
from learner.training import RunBusy, retrain_due, run_lease_seconds, training_run_create, training_run_execute

__all__ = [
    "SAMPLING_STRATEGIES",
    "RunBusy",
    "model_version_promote",
    "model_version_rollback",
    "project_suggestions_set",
    "qualified_capacity",
    "retrain_due",
    "run_lease_seconds",
    "sampling_run_execute",
    "scoring_shard_execute",
    "training_queue",
    "training_run_create",
    "training_run_execute",
]
