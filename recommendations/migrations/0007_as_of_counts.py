from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# The overview as of any past day, kept as day-by-day changes.
#
# A recommendation counts from the day it was issued (from the beginning of
# time when no date is known) as `not_assessed`; each headline period moves
# it, from its first day (clipped to the issue date) to its last, from
# `not_assessed` to its headline. Each move counts once under each number the
# recommendation is part of: the totals, its issuing body, its country, each
# instrument it is linked to and each theme. Disputed periods count as
# disputed; overdue counts from the day after the follow-up date, except in
# closed periods; each assessor's status periods count under that assessor.
# The overview as of a day is then the sum of every change up to that day.
#
# `contribution` gives all of that for a set of recommendations from five
# relations (their rows, headline periods, status periods, links and
# themes). A statement on one of those tables changes only that relation, so
# its trigger writes what the contribution of the recommendations it touched
# is now, minus what it was: the same query over the table as it stands and
# over the table as it stood (its rows for those recommendations, less the
# statement's new rows, plus its old ones). Each change is written twice:
# under its day, and under its month (`monthly`), so that a day's overview
# sums the months before it and the days of its own month.
#
# The query is long: planning it takes about 10 ms, running it for one
# recommendation under 1 ms. PostgreSQL would plan it afresh on every call
# (a plan for the actual ids always looks cheaper than a generic one), so
# the functions keep one generic plan per session instead.
#
# The recommendations' rows are locked before reading, so that two
# statements touching one recommendation from different tables (a link and
# an assessment, say) never both read the other's state from before.

TABLE = "recommendations_asofcount"
RECOMMENDATION = "recommendations_recommendation"
HEADLINE = "recommendations_headlineperiod"
STATUS = "recommendations_statusperiod"
LINK = "recommendations_provisionlink"
THEMES = "recommendations_recommendation_themes"
CLOSED = "('fully_implemented', 'no_longer_relevant')"
# Set to 'on' for one transaction, this setting makes the triggers write
# nothing: a bulk load of new recommendations (the synthetic data) then adds
# their whole contribution at once with `recommendations_as_of_add` (13 s
# instead of 20 s for 10,000 recommendations, counted once instead of after
# each of five statements). Only for recommendations the transaction itself
# creates, which no other transaction sees.
DEFERRED = "recommendations.as_of_deferred"
BEGINNING = "DATE '0001-01-01'"

COLUMNS = {
    RECOMMENDATION: "id, issued_on, follow_up_due, issued_by_id, country",
    HEADLINE: "id, recommendation_id, headline, disputed, valid_from, valid_until",
    STATUS: "id, recommendation_id, assessor_id, status, valid_from, valid_until",
    LINK: "id, recommendation_id, instrument_id",
    THEMES: "id, recommendation_id, theme_id",
}

# A span [start, until) as two changes: +n on its first day, -n on the day
# after its last; nothing when clipping left it empty.
SPAN = """CROSS JOIN LATERAL (VALUES ({start}, 1), ({until}, -1)) AS x(day, n)
    WHERE ({until} IS NULL OR {until} > {start}) AND x.day IS NOT NULL"""

CONTRIBUTION = f"""
SELECT u.day, k.dimension, k.key, u.status, u.n * {{sign}} AS n
FROM (
    SELECT r.id, coalesce(r.issued_on, {BEGINNING}) AS day, 'not_assessed' AS status, 1 AS n
    FROM {{r}} r
    UNION ALL
    SELECT r.id, x.day, moved.status, x.n * moved.n
    FROM {{r}} r JOIN {{h}} h ON h.recommendation_id = r.id
    CROSS JOIN LATERAL (VALUES (h.headline, 1), ('not_assessed', -1)) AS moved(status, n)
    {SPAN.format(start="greatest(h.valid_from, r.issued_on)", until="h.valid_until")}
) u
JOIN (
    SELECT id AS recommendation_id, 'status' AS dimension, '' AS key FROM {{r}} r
    UNION ALL
    SELECT id, 'issued_by', issued_by_id::text FROM {{r}} r
    UNION ALL
    SELECT id, 'country', country FROM {{r}} r
    UNION ALL
    SELECT DISTINCT recommendation_id, 'instrument', instrument_id::text FROM {{l}} l
    UNION ALL
    SELECT DISTINCT recommendation_id, 'theme', theme_id::text FROM {{t}} t
) k ON k.recommendation_id = u.id
UNION ALL
SELECT x.day, 'disputed', '', '', x.n * {{sign}}
FROM {{r}} r JOIN {{h}} h ON h.recommendation_id = r.id AND h.disputed
{SPAN.format(start="greatest(h.valid_from, r.issued_on)", until="h.valid_until")}
UNION ALL
SELECT greatest(r.issued_on, r.follow_up_due + 1), 'overdue', '', '', {{sign}}
FROM {{r}} r WHERE r.follow_up_due IS NOT NULL
UNION ALL
SELECT x.day, 'overdue', '', '', -x.n * {{sign}}
FROM {{r}} r JOIN {{h}} h ON h.recommendation_id = r.id AND h.headline IN {CLOSED}
{SPAN.format(start="greatest(h.valid_from, r.issued_on, r.follow_up_due + 1)", until="h.valid_until")}
    AND r.follow_up_due IS NOT NULL
UNION ALL
SELECT x.day, 'assessor', s.assessor_id::text, s.status, x.n * {{sign}}
FROM {{r}} r JOIN {{s}} s ON s.recommendation_id = r.id
{SPAN.format(start="greatest(s.valid_from, r.issued_on)", until="s.valid_until")}
"""

WRITE = f"""
WITH changed AS (
    SELECT day, dimension, key, status, sum(n) AS n FROM ({{contributions}}) c
    GROUP BY day, dimension, key, status HAVING sum(n) <> 0
)
INSERT INTO {TABLE} (monthly, day, dimension, key, status, n)
SELECT false, day, dimension, key, status, n FROM changed
UNION ALL
SELECT true, date_trunc('month', day)::date, dimension, key, status, sum(n) FROM changed
GROUP BY 2, 3, 4, 5 HAVING sum(n) <> 0;
"""

OPERATIONS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", True, False),
    "update": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", True, True),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows", False, True),
}


def _owner(table: str) -> str:
    return "id" if table == RECOMMENDATION else "recommendation_id"


def _touching(table: str) -> str:
    return f"{_owner(table)} IN (SELECT unnest(touched))"


def _rows(table: str, source: str, where: str) -> str:
    return f"SELECT {COLUMNS[table]} FROM {source} WHERE {where}"


def _as_they_stand() -> dict[str, str]:
    """Each table's rows of the touched recommendations."""
    return {table: f"({_rows(table, table, _touching(table))})" for table in COLUMNS}


def _contribution(relations: dict[str, str], sign: int) -> str:
    return CONTRIBUTION.format(
        sign=sign,
        r=relations[RECOMMENDATION],
        h=relations[HEADLINE],
        s=relations[STATUS],
        l=relations[LINK],
        t=relations[THEMES],
    )


def _parts(table: str, new: bool, old: bool) -> tuple[str, str, str]:
    """For one table and operation: the touched recommendations, their lock and the write."""
    owner = _owner(table)
    touched = " UNION ".join(
        f"SELECT {owner} FROM {rows}"
        for rows, present in (("new_rows", new), ("old_rows", old))
        if present
    )
    if table == RECOMMENDATION and new and old:
        # Only the columns the counts read matter; a new headline does not.
        touched = (
            "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
            "WHERE (n.issued_on, n.follow_up_due, n.issued_by_id, n.country) "
            "IS DISTINCT FROM (o.issued_on, o.follow_up_due, o.issued_by_id, o.country)"
        )
    lock = (
        ""  # the statement itself holds the rows' locks
        if table == RECOMMENDATION
        else f"PERFORM 1 FROM {RECOMMENDATION} WHERE id = ANY(touched) "
        "ORDER BY id FOR NO KEY UPDATE;"
    )
    mine = _touching(table)
    now = _as_they_stand()
    before = dict(now)
    if table == RECOMMENDATION:
        now[table] = f"({_rows(table, 'new_rows' if new else table, mine if new else 'false')})"
        before[table] = f"({_rows(table, 'old_rows' if old else table, mine if old else 'false')})"
    else:
        kept = f"{mine} AND id NOT IN (SELECT id FROM new_rows)" if new else mine
        added = f" UNION ALL SELECT {COLUMNS[table]} FROM old_rows" if old else ""
        before[table] = f"({_rows(table, table, kept)}{added})"
    write = WRITE.format(
        contributions=_contribution(now, 1) + " UNION ALL " + _contribution(before, -1)
    )
    return touched, lock, write


def _function(table: str, name: str, new: bool, old: bool) -> str:
    """The trigger function for one table and operation: the contribution now minus before."""
    touched, lock, write = _parts(table, new, old)
    return f"""
CREATE FUNCTION recommendations_as_of_{_short(table)}_{name}() RETURNS trigger AS $$
DECLARE
    touched bigint[] := ARRAY(
        SELECT DISTINCT t.id FROM ({touched}) AS t(id) WHERE t.id IS NOT NULL
    );
BEGIN
    IF cardinality(touched) = 0 OR current_setting('{DEFERRED}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    {lock}
    {write}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;
"""


def _short(table: str) -> str:
    return table.removeprefix("recommendations_").replace("recommendation_", "")


def _triggers() -> str:
    statements = []
    for table in COLUMNS:
        for name, (event, referencing, new, old) in OPERATIONS.items():
            statements.append(_function(table, name, new, old))
            statements.append(
                f"CREATE TRIGGER recommendations_as_of_{name} AFTER {event} ON {table} "
                f"{referencing} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION recommendations_as_of_{_short(table)}_{name}();"
            )
    return "\n".join(statements)


# What the given recommendations add to every day, for a bulk load that
# wrote them with the triggers deferred (see DEFERRED), and the numbers as
# they stand when the triggers start counting.
ADD = f"""
CREATE FUNCTION recommendations_as_of_add(touched bigint[]) RETURNS void AS $$
BEGIN
    {WRITE.format(contributions=_contribution(_as_they_stand(), 1))}
END;
$$ LANGUAGE plpgsql;
"""
BACKFILL = WRITE.format(contributions=_contribution({name: name for name in COLUMNS}, 1))


def _install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_triggers() + ADD + BACKFILL)


def _remove(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    statements = []
    for table in COLUMNS:
        for name in OPERATIONS:
            statements.append(f"DROP TRIGGER IF EXISTS recommendations_as_of_{name} ON {table};")
            statements.append(
                f"DROP FUNCTION IF EXISTS recommendations_as_of_{_short(table)}_{name}();"
            )
    statements.append("DROP FUNCTION IF EXISTS recommendations_as_of_add(bigint[]);")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("\n".join(statements))


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0006_overview_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="AsOfCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("monthly", models.BooleanField()),
                ("day", models.DateField()),
                ("dimension", models.CharField(max_length=20)),
                ("key", models.CharField(blank=True, max_length=40)),
                ("status", models.CharField(blank=True, max_length=30)),
                ("n", models.IntegerField()),
            ],
            options={
                "verbose_name": "as-of count",
                "verbose_name_plural": "as-of counts",
                "indexes": [
                    models.Index(fields=["monthly", "day"], name="as_of_count_day_idx"),
                ],
            },
        ),
        migrations.RunPython(_install, _remove),
    ]
