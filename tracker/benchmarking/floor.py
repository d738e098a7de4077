"""The floor: the list page and the overview built by PostgreSQL alone, in one query each.

Nothing in Python but sending the query and receiving the text: what the
database needs to produce the same answer the API and the reports produce.
Both queries return JSON text; `list_page` pages by key (`code` after the
last one seen), as a cursor does.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from instruments.api import PROVISION_KEY_SEPARATOR
from recommendations.reports import CLOSED_STATUSES

# The API's representation of a recommendation (recommendations/serializers.py),
# field for field and in the same orders as its prefetches.
LIST_PAGE_SQL = """
SELECT coalesce(json_agg(page.document ORDER BY page.code), '[]'::json)::text
FROM (
    SELECT r.code, json_build_object(
        'code', r.code,
        'kind', r.kind,
        'text', coalesce(nullif(r.text_en, ''), r.text),
        'issued_by', issuer.slug,
        'issued_on', r.issued_on,
        'issued_on_precision', r.issued_on_precision,
        'source', source.key,
        'addressed_to', coalesce((
            SELECT json_agg(o.slug ORDER BY o.name, o.id)
            FROM recommendations_recommendation_addressed_to a
            JOIN tracker_organisation o ON o.id = a.organisation_id
            WHERE a.recommendation_id = r.id), '[]'::json),
        'country', r.country,
        'themes', coalesce((
            SELECT json_agg(t.slug ORDER BY coalesce(nullif(t.name_en, ''), t.name), t.id)
            FROM recommendations_recommendation_themes rt
            JOIN recommendations_theme t ON t.id = rt.theme_id
            WHERE rt.recommendation_id = r.id), '[]'::json),
        'sdg_targets', coalesce((
            SELECT json_agg(s.code ORDER BY s.code)
            FROM recommendations_recommendation_sdg_targets rs
            JOIN recommendations_sdgtarget s ON s.id = rs.sdgtarget_id
            WHERE rs.recommendation_id = r.id), '[]'::json),
        'follow_up_due', r.follow_up_due,
        'reiterates', reiterated.code,
        'state_response', r.state_response,
        'headline_status', r.headline_status,
        'disputed', r.disputed,
        'current_assessments', coalesce((
            SELECT json_agg(json_build_object(
                'assessor', o.slug,
                'status', c.status,
                'status_since', c.status_since,
                'assessment', a.key) ORDER BY o.slug)
            FROM recommendations_currentassessment c
            JOIN tracker_organisation o ON o.id = c.assessor_id
            JOIN recommendations_statusassessment a ON a.id = c.assessment_id
            WHERE c.recommendation_id = r.id), '[]'::json),
        'provision_links', coalesce((
            SELECT json_agg(json_build_object(
                'key', l.key,
                'relation', l.relation,
                'instrument', i.slug,
                'provision',
                    CASE WHEN p.id IS NULL THEN NULL ELSE i.slug || %(separator)s || p.eid END,
                'note', l.note) ORDER BY l.key)
            FROM recommendations_provisionlink l
            JOIN instruments_instrument i ON i.id = l.instrument_id
            LEFT JOIN instruments_provision p ON p.id = l.provision_id
            WHERE l.recommendation_id = r.id), '[]'::json),
        'created_at', r.created_at,
        'updated_at', r.updated_at
    ) AS document
    FROM recommendations_recommendation r
    JOIN tracker_organisation issuer ON issuer.id = r.issued_by_id
    LEFT JOIN instruments_source source ON source.id = r.source_id
    LEFT JOIN recommendations_recommendation reiterated ON reiterated.id = r.reiterates_id
    WHERE r.code > %(after)s
    ORDER BY r.code
    LIMIT %(size)s
) page
"""

# The numbers of reports.overview() without filters: totals, flags and the
# five breakdowns, each counted by headline (or, for assessors, own) status.
OVERVIEW_SQL = """
WITH
by_status AS (
    SELECT headline_status AS status, count(*) AS n
    FROM recommendations_recommendation GROUP BY 1
),
issuers AS (
    SELECT o.slug AS key, r.headline_status AS status, count(*) AS n
    FROM recommendations_recommendation r JOIN tracker_organisation o ON o.id = r.issued_by_id
    GROUP BY 1, 2
),
instruments AS (
    SELECT i.slug AS key, r.headline_status AS status, count(DISTINCT r.id) AS n
    FROM recommendations_provisionlink l
    JOIN recommendations_recommendation r ON r.id = l.recommendation_id
    JOIN instruments_instrument i ON i.id = l.instrument_id
    GROUP BY 1, 2
),
themes AS (
    SELECT t.slug AS key, r.headline_status AS status, count(DISTINCT r.id) AS n
    FROM recommendations_recommendation_themes rt
    JOIN recommendations_recommendation r ON r.id = rt.recommendation_id
    JOIN recommendations_theme t ON t.id = rt.theme_id
    GROUP BY 1, 2
),
assessors AS (
    SELECT o.slug AS key, c.status AS status, count(*) AS n
    FROM recommendations_currentassessment c JOIN tracker_organisation o ON o.id = c.assessor_id
    GROUP BY 1, 2
),
countries AS (
    SELECT r.country AS key, r.headline_status AS status, count(*) AS n
    FROM recommendations_recommendation r GROUP BY 1, 2
)
SELECT json_build_object(
    'total', (SELECT coalesce(sum(n), 0) FROM by_status),
    'by_status', (SELECT coalesce(json_object_agg(status, n), '{}'::json) FROM by_status),
    'disputed', (SELECT count(*) FROM recommendations_recommendation WHERE disputed),
    'overdue', (
        SELECT count(*) FROM recommendations_recommendation
        WHERE follow_up_due < %(today)s AND NOT (headline_status = ANY(%(closed)s))
    ),
    'breakdowns', json_build_object(
        'issued_by', (SELECT json_object_agg(key, counts) FROM (
            SELECT key, json_object_agg(status, n) AS counts FROM issuers GROUP BY key) g),
        'instrument', (SELECT json_object_agg(key, counts) FROM (
            SELECT key, json_object_agg(status, n) AS counts FROM instruments GROUP BY key) g),
        'theme', (SELECT json_object_agg(key, counts) FROM (
            SELECT key, json_object_agg(status, n) AS counts FROM themes GROUP BY key) g),
        'assessor', (SELECT json_object_agg(key, counts) FROM (
            SELECT key, json_object_agg(status, n) AS counts FROM assessors GROUP BY key) g),
        'country', (SELECT json_object_agg(key, counts) FROM (
            SELECT key, json_object_agg(status, n) AS counts FROM countries GROUP BY key) g)
    )
)::text
"""


def list_page(*, after: str = "", size: int = 100) -> str:
    """The JSON text of the `size` recommendations after code `after`, as the API shows them.

    Times are rendered in the project's time zone, as the API renders them.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [settings.TIME_ZONE])
        try:
            cursor.execute(
                LIST_PAGE_SQL,
                {"after": after, "size": size, "separator": PROVISION_KEY_SEPARATOR},
            )
            row = cursor.fetchone()
        finally:
            # Back to the zone Django reads times in: inside an outer
            # transaction, a local setting would outlive this block.
            cursor.execute("SELECT set_config('TimeZone', %s, true)", [connection.timezone_name])
    return str(row[0]) if row else "[]"


def overview(*, today: datetime.date) -> str:
    """The JSON text of the overview's numbers over every recommendation."""
    with connection.cursor() as cursor:
        cursor.execute(OVERVIEW_SQL, {"today": today, "closed": [str(s) for s in CLOSED_STATUSES]})
        row = cursor.fetchone()
    return str(row[0]) if row else "{}"


def parsed(text: str) -> Any:
    return json.loads(text)
