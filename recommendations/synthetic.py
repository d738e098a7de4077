"""Realistic, reproducible synthetic data for measuring how the tracker scales.

Recommendation number `i` is drawn from its own random stream (seeded with the
seed and `i`), so a database grown from 1,000 to 10,000 recommendations holds
exactly what one generated at 10,000 at once holds, and a benchmark can reuse
a smaller size instead of starting again (the append-only tables cannot be
emptied). A recommendation only reiterates one from an earlier block of
`BLOCK` numbers, which is already stored whatever size the run started from.
Extending a data set takes the seed it was made with; the number of
assessments per recommendation applies to the recommendations added.

Rows are written in bulk (COPY on PostgreSQL), not one service call each: the
services' per-row checks, locks and refreshes would take hours at a million
assessments. Everything the services would have derived is derived here by
the same code (`chain.record_hash`, `services.current_from_history`,
`choices.headline_from`, `periods.period_rows`), the database's constraints
check every row, PostgreSQL's history, change feed and overview triggers
record every insert as they would for any other write, and `verify_history`
proves the result consistent
(tests/scale/test_synthetic.py). On PostgreSQL the blocks are written by
`WORKERS` threads at once and committed in order, which gives the same data.
"""

from __future__ import annotations

import contextlib
import datetime
import queue
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import pghistory.runtime
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Model
from django.utils import translation

from instruments.choices import InstrumentKind, Jurisdiction, SourceKind
from instruments.models import Instrument, Provision, Source
from recommendations import chain
from recommendations.choices import (
    ASSESSABLE_STATUSES,
    STATUS_RANK,
    LinkRelation,
    RecommendationKind,
    ReviewState,
    StateResponse,
    Status,
    Visibility,
    headline_from,
)
from recommendations.models import (
    AsOfPending,
    Concern,
    CurrentAssessment,
    HeadlinePeriod,
    ProvisionLink,
    Recommendation,
    SdgTarget,
    StatusAssessment,
    StatusPeriod,
    Theme,
)
from recommendations.periods import period_rows
from recommendations.services import current_from_history, overview_counts_compact
from tracker.choices import OrganisationKind
from tracker.history import history_context
from tracker.models import Organisation, User
from tracker.roles import Role

CODE_PREFIX = "SYN-"
BLOCK = 1000
# Recommendations written per transaction (a divisor of BLOCK). Inserting
# used to slow down with the rows already written in the transaction (each
# failing EXCEPTION block in a trigger scanned the transaction's queued
# trigger events), hence small transactions. With `_keep_trigger_checks_cheap`
# and tracker migration 0007 a row costs the same however many precede it,
# and the size hardly matters: 5,000 recommendations of 10 assessments took
# 11.3 s at 100 a transaction, 12.2 s at 500 and 11.7 s at 1,000 (3.8 s of
# Python and 8 s of PostgreSQL time each). Small ones lose less when a run
# is interrupted.
TRANSACTION_SIZE = 100
# Blocks written at once on PostgreSQL, each by a thread with its own
# connection. A block is about a third Python (drawing the rows, encoding
# them) and two thirds waiting on PostgreSQL, so two keep two cores busy:
# two runs of 3,000 recommendations at once took 17.6 s, one alone 16.0 s.
WORKERS = 2
# How long a finished block waits for the one before it to commit before the
# run gives up (a block takes well under a second).
TURN_TIMEOUT_SECONDS = 600
ISSUERS = 6
ASSESSORS = 5
ADDRESSEES = 4
INSTRUMENTS = 20
PROVISIONS_PER_INSTRUMENT = 30
THEMES = 12
SOURCES = 20
SDG_TARGETS = ("8.7", "8.8", "10.7", "16.2", "16.9", "5.2")
# One concern for every this many recommendations, answered by them.
RECOMMENDATIONS_PER_CONCERN = 50

# Every synthetic date lies in this window, well before any "today" a run sees,
# so no assessment holds from a future date.
FIRST_ISSUE = datetime.date(2010, 1, 1)
LAST_ISSUE = datetime.date(2019, 12, 31)
LAST_STATUS = datetime.date(2023, 12, 31)
# Corrections are reviewed after every ordinary assessment of their recommendation.
CORRECTIONS_FROM = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)

_SUBJECTS = (
    "the registration of foreign citizens",
    "exit visas for citizens travelling abroad",
    "the residence permits of labour migrants",
    "access to asylum procedures at the border",
    "the detention of irregular migrants",
    "the protection of victims of trafficking",
    "the freedom of movement within the country",
    "the naturalisation of stateless persons",
    "the rights of migrant domestic workers",
    "the return of refugees to their country of origin",
)
_ACTIONS = (
    "Amend the law on",
    "Repeal the provisions restricting",
    "Bring into line with international standards the rules on",
    "Ensure effective judicial review of decisions on",
    "Adopt secondary legislation on",
    "Consult civil society on the reform of",
)
_EVIDENCE = (
    "The amending law was published in the official gazette.",
    "The draft remains before parliament; no reading has been scheduled.",
    "The ministry's order implements part of the recommendation.",
    "Interviews with lawyers show the practice has not changed.",
    "The government's report to the treaty body describes the new procedure.",
    "Court decisions since the reform apply the new standard.",
)
_RETURN_NOTES = (
    "The evidence does not mention the provision concerned; add a source.",
    "The status is not supported by the cited document.",
)
_CORRECTION_REASONS = (
    "The date from which the status holds was wrong.",
    "The cited law was misread: it covers only part of the recommendation.",
)


@dataclass
class GenerationReport:
    """What one run wrote: the recommendations it added and the size it reached."""

    recommendations_before: int
    recommendations_after: int
    assessments_written: int = 0
    seconds: float = 0.0


@dataclass
class _Reference:
    """The shared rows every synthetic recommendation draws from, by id."""

    issuers: list[int]
    assessors: list[int]
    monitors: dict[int, int]
    reviewer: int
    addressees: list[int]
    themes: list[int]
    sdg_targets: list[int]
    sources: list[int]
    provisions: list[tuple[int, int]]  # (instrument id, provision id)
    instruments: list[int] = field(default_factory=list)


def _organisation(slug: str, name: str, kind: str) -> int:
    organisation, _ = Organisation.objects.get_or_create(
        slug=slug, defaults={"name": name, "kind": kind, "country": "KZ"}
    )
    return organisation.pk


def _account(username: str, role: Role, organisation_id: int | None) -> int:
    account = User.objects.filter(username=username).first()
    if account is None:
        account = User(
            username=username,
            organisation_id=organisation_id,
            is_staff=True,
        )
        # Synthetic accounts never sign in.
        account.set_unusable_password()
        account.save()
        group = Group.objects.filter(name=role.value).first()
        if group is not None:
            account.groups.add(group)
    return account.pk


def _reference_rows() -> _Reference:
    """Create (once) the organisations, accounts, instruments and vocabularies drawn from."""
    issuers = [
        _organisation(f"syn-issuer-{n}", f"Synthetic issuing body {n}", OrganisationKind.UN_BODY)
        for n in range(1, ISSUERS + 1)
    ]
    assessors = [
        _organisation(f"syn-assessor-{n}", f"Synthetic monitoring NGO {n}", OrganisationKind.NGO)
        for n in range(1, ASSESSORS + 1)
    ]
    addressees = [
        _organisation(f"syn-ministry-{n}", f"Synthetic ministry {n}", OrganisationKind.MINISTRY)
        for n in range(1, ADDRESSEES + 1)
    ]
    monitors = {
        assessor: _account(f"syn-monitor-{n}", Role.MONITOR, assessor)
        for n, assessor in enumerate(assessors, start=1)
    }
    reviewer = _account("syn-reviewer", Role.EDITOR, None)
    themes = [
        Theme.objects.get_or_create(
            slug=f"syn-theme-{n}", defaults={"name": f"Synthetic theme {n}"}
        )[0].pk
        for n in range(1, THEMES + 1)
    ]
    sdg_targets = [
        SdgTarget.objects.get_or_create(code=code, defaults={"title": f"SDG target {code}"})[0].pk
        for code in SDG_TARGETS
    ]
    sources = [
        Source.objects.get_or_create(
            key=f"syn-source-{n}",
            defaults={
                "title": f"Synthetic report {n}",
                "kind": SourceKind.REPORT,
                "published_on": FIRST_ISSUE + datetime.timedelta(days=120 * n),
            },
        )[0].pk
        for n in range(1, SOURCES + 1)
    ]
    instruments = []
    for n in range(1, INSTRUMENTS + 1):
        instrument, created = Instrument.objects.get_or_create(
            slug=f"syn-law-{n}",
            defaults={
                "title": f"Synthetic law {n} on migration",
                "kind": InstrumentKind.LAW if n % 4 else InstrumentKind.CONVENTION,
                "jurisdiction": Jurisdiction.NATIONAL if n % 4 else Jurisdiction.INTERNATIONAL,
                "country": "KZ" if n % 4 else "",
            },
        )
        if created:
            Provision.objects.bulk_create(
                Provision(
                    instrument=instrument,
                    eid=f"art_{article}",
                    label=f"Article {article}",
                    text=f"Text of article {article} of synthetic law {n}.",
                )
                for article in range(1, PROVISIONS_PER_INSTRUMENT + 1)
            )
        instruments.append(instrument.pk)
    provisions = list(
        Provision.objects.filter(instrument_id__in=instruments)
        .order_by("instrument_id", "id")
        .values_list("instrument_id", "id")
    )
    return _Reference(
        issuers=issuers,
        assessors=assessors,
        monitors=monitors,
        reviewer=reviewer,
        addressees=addressees,
        themes=themes,
        sdg_targets=sdg_targets,
        sources=sources,
        provisions=provisions,
        instruments=instruments,
    )


def m2m_through(model: type[Model], field_name: str) -> type[Model]:
    """The table behind a many-to-many field, whose rows are written in bulk here."""
    through: type[Model] = model._meta.get_field(field_name).remote_field.through  # type: ignore[union-attr]
    return through


def _code(number: int) -> str:
    return f"{CODE_PREFIX}{number:07d}"


def _day_between(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, max((end - start).days, 0)))


def _moment(day: datetime.date, rng: random.Random) -> datetime.datetime:
    """A time on `day`, to the microsecond, as the database keeps it."""
    return datetime.datetime(
        day.year, day.month, day.day, tzinfo=datetime.UTC
    ) + datetime.timedelta(
        seconds=rng.randint(8 * 3600, 18 * 3600), microseconds=rng.randint(0, 999_999)
    )


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class _Planned:
    """One recommendation's rows before they are written."""

    recommendation: Recommendation
    reiterates_number: int | None
    themes: list[int]
    addressees: list[int]
    sdg_targets: list[int]
    links: list[ProvisionLink]
    assessments: list[StatusAssessment]
    # (index in `assessments` of the corrected one, the correction) pairs.
    corrections: list[tuple[int, StatusAssessment]]
    # Each assessor's current assessment, by assessor id.
    current: dict[int, StatusAssessment] = field(default_factory=dict)


def _derive_current(plan: _Planned) -> None:
    """Each assessor's current assessment and the headline, by the services' own rules.

    Computed before anything is written, so each recommendation is inserted
    with its final headline. The rules order ties by id: the assessments
    already carry the ids they will be stored under (`_allocate_ids`).
    """
    plan.current = current_from_history(
        a
        for a in [*plan.assessments, *(correction for _, correction in plan.corrections)]
        if a.review_state == ReviewState.PUBLISHED
    )
    headline, disputed = headline_from(a.status for a in plan.current.values())
    plan.recommendation.headline_status = headline
    plan.recommendation.disputed = disputed


def _plan_assessments(
    rng: random.Random,
    reference: _Reference,
    issued_on: datetime.date,
    count: int,
) -> tuple[list[StatusAssessment], list[tuple[int, StatusAssessment]]]:
    if count == 0:
        return [], []
    assessors = rng.sample(reference.assessors, k=rng.choice((1, 1, 2, 2, 3)))
    corrections_wanted = sum(1 for _ in range(count) if rng.random() < 0.08)
    ordinary = max(count - corrections_wanted, 1)
    corrections_wanted = count - ordinary
    # Ordinary assessments follow each other in time, alternating assessors,
    # each assessor's status wandering up (mostly) or down the scale.
    span = (LAST_STATUS - issued_on).days
    days = sorted(rng.randint(1, span) for _ in range(ordinary))
    rank: dict[int, int] = {assessor: rng.randint(0, 1) for assessor in assessors}
    ranked = [s for s in ASSESSABLE_STATUSES if s != Status.NO_LONGER_RELEVANT]
    ranked.sort(key=lambda s: STATUS_RANK[s])
    assessments = []
    for index, offset in enumerate(days):
        assessor = assessors[index % len(assessors)]
        step = rng.choice((0, 1, 1, -1)) if index >= len(assessors) else 0
        rank[assessor] = min(max(rank[assessor] + step, 0), len(ranked) - 1)
        status: Status = ranked[rank[assessor]]
        if rng.random() < 0.02:
            status = Status.NO_LONGER_RELEVANT
        status_since = issued_on + datetime.timedelta(days=offset)
        # Distinct recording times: minutes apart, in the order of the timeline.
        recorded_at = _moment(status_since, rng) + datetime.timedelta(minutes=index)
        draw = rng.random()
        state = (
            ReviewState.DRAFT
            if draw < 0.02
            else ReviewState.SUBMITTED
            if draw < 0.05
            else ReviewState.RETURNED
            if draw < 0.10
            else ReviewState.PUBLISHED
        )
        if corrections_wanted and index == 0:
            state = ReviewState.PUBLISHED  # something for the corrections to correct
        assessments.append(
            _assessment(rng, reference, assessor, status, status_since, recorded_at, state)
        )
    corrections = []
    correctable = [
        index
        for index, assessment in enumerate(assessments)
        if assessment.review_state in (ReviewState.PUBLISHED, ReviewState.RETURNED)
    ]
    for number in range(corrections_wanted):
        target_index = rng.choice(correctable)
        target = assessments[target_index]
        recorded_at = CORRECTIONS_FROM + datetime.timedelta(
            days=rng.randint(0, 200), minutes=number, microseconds=rng.randint(0, 999_999)
        )
        correction = _assessment(
            rng,
            reference,
            target.assessor_id,
            rng.choice(ranked),
            target.status_since,
            recorded_at,
            ReviewState.PUBLISHED,
        )
        correction.correction_reason = rng.choice(_CORRECTION_REASONS)
        corrections.append((target_index, correction))
    return assessments, corrections


def _assessment(
    rng: random.Random,
    reference: _Reference,
    assessor: int,
    status: str,
    status_since: datetime.date,
    recorded_at: datetime.datetime,
    state: str,
) -> StatusAssessment:
    visibility_draw = rng.random()
    assessment = StatusAssessment(
        key=_uuid(rng),
        assessor_id=assessor,
        status=status,
        status_since=status_since,
        evidence=rng.choice(_EVIDENCE),
        evidence_url=f"https://example.org/evidence/{rng.getrandbits(32):08x}"
        if rng.random() < 0.3
        else "",
        source_id=rng.choice(reference.sources) if rng.random() < 0.5 else None,
        visibility=(
            Visibility.INTERNAL
            if visibility_draw < 0.1
            else Visibility.PARTNERS
            if visibility_draw < 0.2
            else Visibility.PUBLIC
        ),
        recorded_by_id=reference.monitors[assessor],
        recorded_at=recorded_at,
        review_state=state,
    )
    if state != ReviewState.DRAFT:
        assessment.submitted_at = recorded_at + datetime.timedelta(hours=2)
    if state in (ReviewState.PUBLISHED, ReviewState.RETURNED):
        assessment.reviewed_by_id = reference.reviewer
        assessment.reviewed_at = recorded_at + datetime.timedelta(days=1)
    if state == ReviewState.RETURNED:
        assessment.review_note = rng.choice(_RETURN_NOTES)
    return assessment


def _plan(number: int, seed: int, assessments: int, reference: _Reference) -> _Planned:
    # Reproducible on purpose: the same seed must give the same data.
    rng = random.Random(f"{seed}:{number}")  # noqa: S311
    code = _code(number)
    issued_on = _day_between(rng, FIRST_ISSUE, LAST_ISSUE)
    subject = rng.choice(_SUBJECTS)
    text = f"{rng.choice(_ACTIONS)} {subject} ({code})."
    recommendation = Recommendation(
        code=code,
        kind=rng.choices(list(RecommendationKind.values), weights=(85, 5, 5, 5), k=1)[0],
        text=text,
        text_en=text,
        issued_by_id=rng.choice(reference.issuers),
        issued_on=issued_on,
        source_id=rng.choice(reference.sources),
        country=rng.choices(("KZ", "KG", "UZ", "TJ"), weights=(85, 5, 5, 5), k=1)[0],
        follow_up_due=issued_on + datetime.timedelta(days=rng.randint(365, 1500))
        if rng.random() < 0.6
        else None,
        state_response=rng.choice(list(StateResponse.values)),
    )
    block_start = (number - 1) // BLOCK * BLOCK
    reiterates_number = rng.randint(1, block_start) if block_start and rng.random() < 0.05 else None
    links = []
    seen: set[tuple[int, int | None, str]] = set()
    for link_number in range(1, rng.randint(1, 4) + 1):
        instrument_id, provision_id = rng.choice(reference.provisions)
        target: int | None = provision_id if rng.random() < 0.8 else None
        relation = rng.choice(list(LinkRelation.values))
        identity = (instrument_id, target, relation)
        if identity in seen:
            continue
        seen.add(identity)
        links.append(
            ProvisionLink(
                key=f"{code.lower()}-link-{link_number}",
                instrument_id=instrument_id,
                provision_id=target,
                relation=relation,
            )
        )
    ordinary, corrections = _plan_assessments(rng, reference, issued_on, assessments)
    return _Planned(
        recommendation=recommendation,
        reiterates_number=reiterates_number,
        themes=rng.sample(reference.themes, k=rng.randint(1, 3)),
        addressees=rng.sample(reference.addressees, k=rng.randint(1, 2)),
        sdg_targets=rng.sample(reference.sdg_targets, k=rng.randint(0, 2)),
        links=links,
        assessments=ordinary,
        corrections=corrections,
    )


def _chain(published: Sequence[StatusAssessment], after: tuple[int, str]) -> tuple[int, str]:
    """Chain `published` (in publication order) after position and hash `after`."""
    position, previous_hash = after
    for assessment in published:
        position += 1
        assessment.chain_position = position
        assessment.previous_hash = previous_hash
        assessment.record_hash = chain.record_hash(assessment)
        previous_hash = assessment.record_hash
    return position, previous_hash


def _column(model: type[Model], attname: str) -> str:
    """The column of `model`'s concrete field with attribute `attname` (`recommendation_id`)."""
    for concrete in model._meta.concrete_fields:
        if concrete.attname == attname and concrete.column is not None:
            return concrete.column
    raise LookupError(f"{model.__name__} has no column for {attname!r}.")


def _allocate_ids(model: type[Model], count: int) -> list[int]:
    """Ids for `count` rows of `model` about to be inserted, in ascending order.

    Knowing the ids first lets everything that names a row (corrections, the
    hash chain, current assessments) be derived before anything is written,
    and the rows be streamed in without the database returning them.
    """
    if count == 0:
        return []
    table = model._meta.db_table
    column = _column(model, model._meta.pk.attname)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return sorted(pk for (pk,) in cursor.fetchall())
        # SQLite (the smoke test) has no sequence; its single writer makes
        # the next ids those after the largest.
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT coalesce(max({quote(column)}), 0) FROM {quote(table)}")  # noqa: S608
        last: int = cursor.fetchone()[0]
        return list(range(last + 1, last + count + 1))


def _insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert `rows`, each the values of `fields` (attribute names), into `model`'s table.

    On PostgreSQL with COPY, which skips the ORM's per-value preparation (most
    of the generator's own time with `bulk_create`) and the parsing of large
    INSERTs; row triggers fire for COPY as for INSERT, so history and the
    change feed are written all the same. Values must be what psycopg adapts
    to the column's type as Django would: ints, strings, dates, aware
    datetimes, UUIDs, None. Columns left out take their database default.
    """
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = ", ".join(quote(_column(model, name)) for name in fields)
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    model._default_manager.bulk_create(model(**dict(zip(fields, row, strict=True))) for row in rows)


def _insert_objects(model: type[Model], objects: Sequence[Model], *, with_id: bool) -> None:
    """Insert unsaved `objects` with all their columns; their own id only if `with_id`."""
    fields = [
        concrete.attname
        for concrete in model._meta.concrete_fields
        if with_id or not concrete.primary_key
    ]
    _insert_rows(model, fields, map(attrgetter(*fields), objects))


def _insert_links(
    model: type[Model], owner: str, target: str, pairs: Iterable[tuple[int, int]]
) -> None:
    """Rows of a many-to-many table: (owner id, target id) pairs."""
    _insert_rows(model, (f"{owner}_id", f"{target}_id"), pairs)


def _blocks(first: int, last: int, size: int) -> list[range]:
    """The numbers `first` to `last` in transactions, cut where `size` divides them.

    Cut at the same places whatever number a run starts from, so that no
    transaction crosses a BLOCK (which `reiterates` relies on).
    """
    blocks = []
    start = first
    while start <= last:
        end = min((start - 1) // size * size + size, last)
        blocks.append(range(start, end + 1))
        start = end + 1
    return blocks


def _keep_trigger_checks_cheap() -> None:
    """Give pgtrigger's triggers an empty ignore list for this transaction.

    Each of them first calls `_pgtrigger_should_ignore()`, which reads the
    `pgtrigger.ignore` setting inside an EXCEPTION block. Unset (or left empty
    by an earlier `pgtrigger.ignore()` in the session), the read fails and the
    block's subtransaction is rolled back, and each such rollback walks the
    trigger events the transaction has queued so far (its deferred foreign
    key checks): the cost of a row grows with the rows before it. An empty
    list reads without failing and ignores no trigger. Inserting assessments
    in a history context, as the command does: 0.16 ms a row with 2,000 in
    one transaction and 0.24 ms with 20,000 without it, 0.09 ms with either
    count with it. (Tracker migration 0007 does the same for pghistory's
    function, which cannot be kept off its error path from here.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")


def _leave_as_of_counts_pending(plans: Sequence[_Planned]) -> None:
    """Leave the planned recommendations' as-of counts for the end of the run.

    The as-of count triggers would count each block of a hundred on its own,
    about 140 rows a recommendation; named in `AsOfPending` first, they are
    counted once, grouped over the whole run, when the run compacts the
    counts (recommendations migration 0008).
    """
    if connection.vendor == "postgresql":  # no triggers elsewhere
        AsOfPending.objects.bulk_create(
            [AsOfPending(recommendation_id=plan.recommendation.pk) for plan in plans]
        )


def _ids_by_code(codes: Iterable[str], run_ids: Mapping[int, int]) -> dict[str, int]:
    """The ids of recommendations `codes`: this run's from its allocation, older ones stored.

    A recommendation of this run may be in a transaction not yet committed
    (another worker's); its id is known all the same, and the foreign key is
    checked when this transaction commits, after every earlier one has.
    """
    ids: dict[str, int] = {}
    older = []
    for code in codes:
        number = int(code.removeprefix(CODE_PREFIX))
        if number in run_ids:
            ids[code] = run_ids[number]
        else:
            older.append(code)
    ids.update(Recommendation.objects.filter(code__in=older).values_list("code", "pk"))
    return ids


def _write_block(plans: list[_Planned], run_ids: Mapping[int, int]) -> int:
    """Write the planned recommendations and everything hanging off them.

    `run_ids` holds the ids allocated to the run's recommendations, by number.
    """
    for plan in plans:
        plan.recommendation.pk = run_ids[int(plan.recommendation.code.removeprefix(CODE_PREFIX))]
    _leave_as_of_counts_pending(plans)
    reiterated_ids = _ids_by_code(
        (_code(plan.reiterates_number) for plan in plans if plan.reiterates_number is not None),
        run_ids,
    )
    for plan in plans:
        if plan.reiterates_number is not None:
            plan.recommendation.reiterates_id = reiterated_ids[_code(plan.reiterates_number)]

    # Ids in the order the rows have always been inserted in (ordinary
    # assessments, then corrections): the rules break ties by id, and a seed
    # must keep giving the same data.
    ordinary = [a for plan in plans for a in plan.assessments]
    corrections = [correction for plan in plans for _, correction in plan.corrections]
    written = [*ordinary, *corrections]
    for assessment, pk in zip(written, _allocate_ids(StatusAssessment, len(written)), strict=True):
        assessment.pk = pk
    for plan in plans:
        for target_index, correction in plan.corrections:
            correction.corrects_id = plan.assessments[target_index].pk
        _derive_current(plan)

    # pghistory sends its context ahead of each statement the ORM runs,
    # except SELECTs, and never with COPY. The pending rows' insert is the
    # first such statement of the transaction, and what it sets lasts until
    # the transaction ends, so the history rows of the COPYs below get the
    # context too. The ORM also fills in the automatic timestamps.
    Recommendation.objects.bulk_create([plan.recommendation for plan in plans])
    for plan in plans:
        for link in plan.links:
            link.recommendation_id = plan.recommendation.pk
        for assessment in [*plan.assessments, *(c for _, c in plan.corrections)]:
            assessment.recommendation_id = plan.recommendation.pk

    _insert_links(
        m2m_through(Recommendation, "themes"),
        "recommendation",
        "theme",
        ((plan.recommendation.pk, theme) for plan in plans for theme in plan.themes),
    )
    _insert_links(
        m2m_through(Recommendation, "addressed_to"),
        "recommendation",
        "organisation",
        ((plan.recommendation.pk, addressee) for plan in plans for addressee in plan.addressees),
    )
    _insert_links(
        m2m_through(Recommendation, "sdg_targets"),
        "recommendation",
        "sdgtarget",
        ((plan.recommendation.pk, target) for plan in plans for target in plan.sdg_targets),
    )
    _insert_objects(ProvisionLink, [link for plan in plans for link in plan.links], with_id=False)
    _write_concerns(plans, run_ids)

    for plan in plans:
        published = sorted(
            (a for a in plan.assessments if a.review_state == ReviewState.PUBLISHED),
            key=lambda a: a.reviewed_at or a.recorded_at,
        )
        chain_end = _chain(published, (0, chain.GENESIS_HASH))
        _chain(
            sorted(
                (correction for _, correction in plan.corrections),
                key=lambda a: a.reviewed_at or a.recorded_at,
            ),
            chain_end,
        )
    _insert_objects(StatusAssessment, written, with_id=True)

    _insert_rows(
        CurrentAssessment,
        ("recommendation_id", "assessor_id", "assessment_id", "status", "status_since"),
        (
            (plan.recommendation.pk, assessor_id, a.pk, a.status, a.status_since)
            for plan in plans
            for assessor_id, a in plan.current.items()
        ),
    )
    status_periods: list[StatusPeriod] = []
    headline_periods: list[HeadlinePeriod] = []
    for plan in plans:
        status_rows, headline_rows = period_rows(
            plan.recommendation.pk,
            [
                a
                for a in [*plan.assessments, *(c for _, c in plan.corrections)]
                if a.review_state == ReviewState.PUBLISHED
            ],
        )
        status_periods += status_rows
        headline_periods += headline_rows
    _insert_objects(StatusPeriod, status_periods, with_id=False)
    _insert_objects(HeadlinePeriod, headline_periods, with_id=False)
    return len(written)


def _write_concerns(plans: list[_Planned], run_ids: Mapping[int, int]) -> None:
    concerns = []
    answered: list[list[str]] = []
    for plan in plans:
        number = int(plan.recommendation.code.removeprefix(CODE_PREFIX))
        if number % RECOMMENDATIONS_PER_CONCERN:
            continue
        code = f"SYN-C-{number // RECOMMENDATIONS_PER_CONCERN:06d}"
        text = f"Concern about {plan.recommendation.text[:-1].split(' ', 3)[-1]}."
        concerns.append(
            Concern(
                code=code,
                text=text,
                text_en=text,
                raised_by_id=plan.recommendation.issued_by_id,
                raised_on=plan.recommendation.issued_on,
                country=plan.recommendation.country,
            )
        )
        answered.append(
            [_code(n) for n in range(number - RECOMMENDATIONS_PER_CONCERN + 1, number + 1)]
        )
    Concern.objects.bulk_create(concerns)
    # Transactions smaller than the concern's fifty, or a run resumed mid-way,
    # wrote some of the answering recommendations elsewhere.
    ids = _ids_by_code({code for codes in answered for code in codes}, run_ids)
    _insert_links(
        m2m_through(Concern, "answered_by"),
        "concern",
        "recommendation",
        (
            (concern.pk, ids[code])
            for concern, codes in zip(concerns, answered, strict=True)
            for code in codes
        ),
    )


def synthetic_count() -> int:
    """How many synthetic recommendations the database holds."""
    return Recommendation.objects.filter(code__startswith=CODE_PREFIX).count()


Progress = Callable[[int, int], None]


class _InTurn:
    """Lets the workers' transactions commit in the order of their blocks.

    Block `i` commits only after every block before it: the data set stays a
    prefix of the numbers (a run resumes from the count), and foreign keys
    to recommendations of earlier blocks (reiterations, concerns' answers)
    are checked at commit against committed rows. After a block fails, the
    blocks before it still commit and none after it does.
    """

    def __init__(self, on_committed: Callable[[range, int], None]) -> None:
        self._condition = threading.Condition()
        self._committed = 0
        self._on_committed = on_committed
        self.error: BaseException | None = None
        self._failed_at: int | None = None

    def wait_for_turn(self, index: int) -> None:
        with self._condition:
            if not self._condition.wait_for(
                lambda: self._committed == index or self._stopped_before(index),
                timeout=TURN_TIMEOUT_SECONDS,
            ):
                raise TimeoutError(f"block {index} waited over {TURN_TIMEOUT_SECONDS} s")
            if self._stopped_before(index):
                raise RuntimeError("an earlier block failed") from self.error

    def _stopped_before(self, index: int) -> bool:
        return self._failed_at is not None and self._failed_at < index

    def committed(self, index: int, numbers: range, written: int) -> None:
        with self._condition:
            self._committed = index + 1
            self._on_committed(numbers, written)
            self._condition.notify_all()

    def fail(self, index: int, error: BaseException) -> None:
        with self._condition:
            if self._failed_at is None or index < self._failed_at:
                self._failed_at, self.error = index, error
            self._condition.notify_all()


def _history_metadata() -> dict[str, Any] | None:
    """What the caller's history context holds, for the workers' threads.

    pghistory keeps its context per thread (`pghistory.runtime`), so each
    worker opens one of its own with the same metadata: the run's rows then
    name one context per worker. (One shared context would make the workers
    queue on its row, which each transaction writes.)
    """
    current = getattr(pghistory.runtime._tracker, "value", None)
    return None if current is None else dict(current.metadata)


def _write_in_parallel(
    blocks: Sequence[range],
    write: Callable[[range], int],
    workers: int,
    on_committed: Callable[[range, int], None],
) -> None:
    """`write` each block in its own transaction, `workers` at a time, committed in order."""
    tasks: queue.SimpleQueue[tuple[int, range]] = queue.SimpleQueue()
    for task in enumerate(blocks):
        tasks.put(task)
    turns = _InTurn(on_committed)
    history = _history_metadata()

    def work() -> None:
        index = 0
        try:
            with (
                translation.override("en"),
                contextlib.nullcontext() if history is None else history_context(**history),
            ):
                while turns.error is None:
                    try:
                        index, numbers = tasks.get_nowait()
                    except queue.Empty:
                        return
                    with transaction.atomic():
                        written = write(numbers)
                        turns.wait_for_turn(index)
                    turns.committed(index, numbers, written)
        except BaseException as error:
            turns.fail(index, error)  # raised again by the caller
        finally:
            connection.close()

    threads = [threading.Thread(target=work, name=f"synthetic-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if turns.error is not None:
        raise turns.error


def synthetic_generate(
    *,
    recommendations: int,
    assessments_per_recommendation: int,
    seed: int,
    progress: Progress | None = None,
    transaction_size: int = TRANSACTION_SIZE,
    workers: int = WORKERS,
) -> GenerationReport:
    """Grow the synthetic data set to `recommendations` recommendations.

    Those already there (numbered from 1, by an earlier run with the same seed)
    are kept; each new one gets `assessments_per_recommendation` assessments,
    some of them corrections, returns, drafts and submissions. Each block of
    `transaction_size` recommendations (a divisor of BLOCK) is one
    transaction, so an interrupted run leaves whole groups and can be resumed.
    On PostgreSQL, outside a transaction, `workers` threads write blocks at
    once, each on its own connection: one draws and encodes rows while
    another waits on the database. The data is the same either way.
    """
    if recommendations < 0:
        raise ValueError("recommendations: give a number of recommendations, 0 or more.")
    if assessments_per_recommendation < 0:
        raise ValueError("assessments_per_recommendation: give 0 or more.")
    if transaction_size < 1 or BLOCK % transaction_size:
        raise ValueError(f"transaction_size: give a divisor of {BLOCK}.")
    if workers < 1:
        raise ValueError("workers: give 1 or more.")
    before = synthetic_count()
    report = GenerationReport(recommendations_before=before, recommendations_after=before)
    if before >= recommendations:
        return report
    started = datetime.datetime.now(datetime.UTC)
    with translation.override("en"):
        with transaction.atomic():
            reference = _reference_rows()
        numbers = range(before + 1, recommendations + 1)
        # Ids in number order, as one writer inserting them in turn would get.
        run_ids = dict(zip(numbers, _allocate_ids(Recommendation, len(numbers)), strict=True))

        def write(block: range) -> int:
            plans = [_plan(n, seed, assessments_per_recommendation, reference) for n in block]
            _keep_trigger_checks_cheap()
            return _write_block(plans, run_ids)

        def committed(block: range, written: int) -> None:
            report.assessments_written += written
            report.recommendations_after = block[-1]
            if progress is not None:
                progress(block[-1] - before, recommendations - before)

        blocks = _blocks(before + 1, recommendations, transaction_size)
        if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
            _write_in_parallel(blocks, write, workers, committed)
        else:
            for block in blocks:
                with transaction.atomic():
                    written = write(block)
                committed(block, written)
    if connection.vendor == "postgresql" and report.recommendations_after > before:
        # Fold the count rows each block added and count the run's past
        # days, as the periodic task would.
        overview_counts_compact()
        # Fresh statistics for the planner: a server without autovacuum (or
        # before it wakes) would plan the benchmark's queries on empty tables.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    report.seconds = (datetime.datetime.now(datetime.UTC) - started).total_seconds()
    return report
