import pytest
from django.contrib.auth.models import Group

from evaluators.models import MembershipEvent, PoolMembership
from evaluators.roles import POOL_ADMINS, REVIEWERS, is_pool_admin, is_reviewer, role_grant
from evaluators.selectors import pools_qualified_for
from evaluators.services import (
    TransitionError,
    membership_invite,
    membership_qualify,
    membership_reinstate,
    membership_remove,
    membership_start_calibrating,
    membership_suspend,
    membership_transition,
)
from tests import factories as f

pytestmark = pytest.mark.django_db
State = PoolMembership.State


def test_full_life_cycle_is_logged_with_actor_and_reason():
    pool = f.pool()
    admin = f.pool_admin(pool)
    user = f.UserFactory()
    membership = membership_invite(pool=pool, user=user, actor=admin)
    membership_start_calibrating(membership=membership, actor=user)
    membership_qualify(membership=membership, reason="passed")
    membership_suspend(membership=membership, actor=admin, reason="careless")
    membership_reinstate(membership=membership, actor=admin, reason="talked it through")
    membership_remove(membership=membership, actor=admin, reason="left the project")
    events = list(MembershipEvent.objects.filter(membership=membership).values_list("from_state", "to_state", "reason"))
    assert events == [
        ("", "invited", "invited"),
        ("invited", "calibrating", "calibration started"),
        ("calibrating", "qualified", "passed"),
        ("qualified", "suspended", "careless"),
        ("suspended", "qualified", "talked it through"),
        ("qualified", "removed", "left the project"),
    ]
    assert MembershipEvent.objects.filter(membership=membership, to_state="suspended").get().actor == admin
    assert membership.state == State.REMOVED


@pytest.mark.parametrize(
    ("start", "target"),
    [(State.INVITED, State.SUSPENDED), (State.CALIBRATING, State.SUSPENDED), (State.SUSPENDED, State.CALIBRATING),
     (State.REMOVED, State.QUALIFIED), (State.REMOVED, State.INVITED), (State.INVITED, State.INVITED)],
)
def test_refused_transitions_change_nothing(start, target):
    membership = f.member(f.pool(), state=start)
    with pytest.raises(TransitionError, match=f"cannot go from {start} to {target}"):
        membership_transition(membership=membership, to_state=target)
    membership.refresh_from_db()
    assert membership.state == start
    assert not MembershipEvent.objects.filter(membership=membership, to_state=target).exclude(from_state="").exists()


def test_reinstate_only_from_suspended_and_reasons_required():
    membership = f.member(f.pool(), state=State.QUALIFIED)
    with pytest.raises(TransitionError, match="only a suspended member"):
        membership_reinstate(membership=membership)
    with pytest.raises(Exception, match="a reason is required"):
        membership_suspend(membership=membership, reason="  ")
    with pytest.raises(Exception, match="a reason is required"):
        membership_remove(membership=membership, reason="")


def test_removed_member_cannot_be_invited_again_and_invite_is_idempotent():
    pool = f.pool()
    membership = f.member(pool, state=State.QUALIFIED)
    assert membership_invite(pool=pool, user=membership.user) == membership
    membership_remove(membership=membership, reason="spam")
    with pytest.raises(TransitionError, match="removed"):
        membership_invite(pool=pool, user=membership.user)


def test_only_qualified_members_are_offered_work():
    pool = f.pool()
    states = {s: f.member(pool, state=s) for s in State.values}
    for state, membership in states.items():
        assert pools_qualified_for(user=membership.user).exists() == (state == State.QUALIFIED)


def test_roles_are_groups_with_permissions():
    reviewers, admins = Group.objects.get(name=REVIEWERS), Group.objects.get(name=POOL_ADMINS)
    assert admins.permissions.filter(codename="manage_pool").exists()
    assert reviewers.permissions.filter(codename="add_approvedlabel").exists()
    pool, other_pool = f.pool(), f.pool(project=f.ProjectFactory())
    user = f.UserFactory()
    assert not is_pool_admin(user) and not is_reviewer(user)
    role_grant(user=user, role=REVIEWERS)
    assert not is_reviewer(user)  # the group alone reviews nothing: it needs a project × language
    role_grant(user=user, role=REVIEWERS, obj=pool)
    assert is_reviewer(user)
    admin = f.pool_admin(pool)
    assert is_pool_admin(admin) and is_pool_admin(admin, pool) and not is_pool_admin(admin, other_pool)
