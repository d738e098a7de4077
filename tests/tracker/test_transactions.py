"""A service keeps a savepoint in its caller's transaction, unless the caller is all or nothing."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from recommendations import services
from recommendations.models import Recommendation, StatusAssessment
from tests import factories
from tracker.models import Organisation, User
from tracker.transactions import all_or_nothing

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 1)


@pytest.fixture
def rec(issuer: Organisation) -> Recommendation:
    return factories.recommendation(issuer, "rec-transactions")


def record(monitor: User, recommendation: Recommendation, status: str) -> StatusAssessment:
    assert monitor.organisation is not None
    return services.assessment_record(
        recommendation=recommendation,
        assessor=monitor.organisation,
        recorded_by=monitor,
        status=status,
        status_since=DAY,
        evidence="Evidence.",
        submit=True,
    )


def savepoints(queries: CaptureQueriesContext) -> list[str]:
    """The savepoints made, whether or not the history's context leads the statement."""
    return [query["sql"] for query in queries if re.search(r"(^|; )SAVEPOINT ", query["sql"])]


def test_a_service_takes_a_savepoint_in_its_callers_transaction(alice, rec):
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        record(alice, rec, "partially_implemented")
    # The caller's own block is a savepoint in the test's transaction, the service's a second.
    assert len(savepoints(queries)) == 2


def test_a_service_takes_none_in_an_all_or_nothing_transaction(alice, rec):
    with CaptureQueriesContext(connection) as queries, all_or_nothing():
        record(alice, rec, "partially_implemented")
        record(alice, rec, "mostly_implemented")
    assert len(savepoints(queries)) == 1  # the block's own, in the test's transaction
    assert StatusAssessment.objects.filter(recommendation=rec).count() == 2
    # After the block, services take their savepoints again.
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        record(alice, rec, "fully_implemented")
    assert len(savepoints(queries)) == 2


def test_a_caller_may_go_on_after_a_services_error_thanks_to_its_savepoint(alice, rec):
    with transaction.atomic():
        record(alice, rec, "partially_implemented")
        with pytest.raises(ValidationError):
            record(alice, rec, "not_assessed")
        record(alice, rec, "mostly_implemented")
    assert StatusAssessment.objects.filter(recommendation=rec).count() == 2


def test_an_error_inside_all_or_nothing_undoes_the_whole(alice, rec):
    with pytest.raises(ValidationError), all_or_nothing():
        record(alice, rec, "partially_implemented")
        record(alice, rec, "not_assessed")
    assert not StatusAssessment.objects.filter(recommendation=rec).exists()
    # A caller that caught the error inside could not go on: no savepoint kept the rest.
    with all_or_nothing():
        with pytest.raises(ValidationError):
            record(alice, rec, "not_assessed")
        with pytest.raises(TransactionManagementError):
            record(alice, rec, "partially_implemented")
