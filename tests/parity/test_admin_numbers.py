"""The admin console shows metrics as numbers a person reads, and its action messages as sentences."""
import pytest
from django.urls import reverse

from annotation.models import AgreementSnapshot
from evaluators.models import PoolMembership
from learner.models import ModelVersion
from parity.formatting import metric
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client):
    client.force_login(f.UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_metric_rounds_and_drops_the_sign_of_zero():
    assert metric(0.03773584905660377) == "0.038"
    assert metric(-2.220446049250313e-16) == "0.000"
    assert metric(-0.25) == "-0.250"
    assert metric(None) == "—"


def test_admin_lists_show_rounded_metrics(console):
    project = f.ProjectFactory()
    hausa = f.language("hau_Latn")
    ModelVersion.objects.create(project=project, language=hausa, backend="ngram", adapter_path="a",
                                macro_f1=0.03773584905660377)
    AgreementSnapshot.objects.create(project=project, language=hausa, krippendorff_alpha=0.41234567,
                                     fleiss_kappa=-2.220446049250313e-16, n_items=3)
    html = console.get(reverse("admin:learner_modelversion_changelist")).content.decode()
    assert "0.038" in html and "0.0377358" not in html
    html = console.get(reverse("admin:annotation_agreementsnapshot_changelist")).content.decode()
    assert "0.412" in html and "0.000" in html and "e-16" not in html and "0.4123456" not in html


def test_membership_actions_read_as_sentences(console):
    pool = f.pool()
    members = [f.member(pool, state=PoolMembership.State.QUALIFIED) for _ in range(2)]
    changelist = reverse("admin:evaluators_poolmembership_changelist")
    page = console.get(changelist).content.decode()
    assert "Suspend selected members" in page and "Suspended selected members" not in page
    response = console.post(changelist, {"action": "membership_suspended",
                                         "_selected_action": [m.pk for m in members]}, follow=True)
    assert "Suspended 2 members." in response.content.decode()
    response = console.post(changelist, {"action": "membership_reinstated",
                                         "_selected_action": [members[0].pk]}, follow=True)
    assert "Reinstated 1 member." in response.content.decode()


def test_admin_make_champion_goes_through_the_confirmation_page(console):
    project = f.ProjectFactory()
    hausa = f.language("hau_Latn")
    champion = ModelVersion.objects.create(project=project, language=hausa, backend="ngram", adapter_path="a",
                                           macro_f1=0.6, status=ModelVersion.Status.CHAMPION)
    worse = ModelVersion.objects.create(project=project, language=hausa, backend="ngram", adapter_path="b",
                                        macro_f1=0.04)
    changelist = reverse("admin:learner_modelversion_changelist")
    response = console.post(changelist, {"action": "make_champion", "_selected_action": [worse.pk]})
    assert response.status_code == 302
    assert response["Location"] == reverse("learner:model_action", args=[worse.pk, "promote"])
    worse.refresh_from_db(), champion.refresh_from_db()
    assert worse.status == ModelVersion.Status.CANDIDATE and champion.status == ModelVersion.Status.CHAMPION
    both = console.post(changelist, {"action": "make_champion", "_selected_action": [worse.pk, champion.pk]},
                        follow=True)
    assert "one at a time" in both.content.decode()
