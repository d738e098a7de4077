from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

COUNTS = "recommendations_overviewcount"
RECOMMENDATION = "recommendations_recommendation"
LINK = "recommendations_provisionlink"
THEMES = "recommendations_recommendation_themes"
CURRENT = "recommendations_currentassessment"

# What a set of recommendation rows (`changed`: their columns and a sign)
# adds to the overview: one per row under its headline, its issuer and its
# country, one per distinct linked instrument and per theme, and one for the
# disputed ones. Links and themes are read from their tables: a statement on
# recommendations never changes them.
RECOMMENDATION_ROWS = f"""
WITH changed AS ({{changed}})
INSERT INTO {COUNTS} (dimension, key, status, n)
SELECT dimension, key, status, sum(sign) FROM (
    SELECT 'status' AS dimension, '' AS key, headline_status AS status, sign FROM changed
    UNION ALL
    SELECT 'disputed', '', '', sign FROM changed WHERE disputed
    UNION ALL
    SELECT 'issued_by', issued_by_id::text, headline_status, sign FROM changed
    UNION ALL
    SELECT 'country', country, headline_status, sign FROM changed
    UNION ALL
    SELECT 'instrument', linked.instrument_id::text, c.headline_status, c.sign
    FROM changed c
    JOIN LATERAL (
        SELECT DISTINCT instrument_id FROM {LINK} WHERE recommendation_id = c.id
    ) linked ON true
    UNION ALL
    SELECT 'theme', t.theme_id::text, c.headline_status, c.sign
    FROM changed c JOIN {THEMES} t ON t.recommendation_id = c.id
) contributions
GROUP BY dimension, key, status
HAVING sum(sign) <> 0;
"""
COLUMNS = "id, headline_status, disputed, issued_by_id, country"

# A link or a theme counts once per recommendation and instrument (theme),
# however many rows join them: a pair's count changes only when its number of
# rows goes from none to some or back. `moved` nets each pair's rows the
# statement added (+1) and removed (-1); the count before is the count after
# minus that. The recommendations' rows are share-locked first, so that a
# concurrent change of a headline waits for this transaction and then moves
# these pairs too.
PAIR_ROWS = f"""
BEGIN
    PERFORM 1 FROM {RECOMMENDATION}
    WHERE id IN (SELECT recommendation_id FROM ({{moved}}) touched)
    ORDER BY id FOR SHARE;
    INSERT INTO {COUNTS} (dimension, key, status, n)
    SELECT TG_ARGV[0], p.member_id::text, r.headline_status,
           sum((p.after > 0)::int - (p.after - p.net > 0)::int)
    FROM (
        SELECT m.recommendation_id, m.member_id, m.net, (
            SELECT count(*) FROM {{table}} x
            WHERE x.recommendation_id = m.recommendation_id AND x.{{member}} = m.member_id
        ) AS after
        FROM (
            SELECT recommendation_id, member_id, sum(k) AS net FROM ({{moved}}) moved
            GROUP BY recommendation_id, member_id HAVING sum(k) <> 0
        ) m
    ) p
    JOIN {RECOMMENDATION} r ON r.id = p.recommendation_id
    GROUP BY p.member_id, r.headline_status
    HAVING sum((p.after > 0)::int - (p.after - p.net > 0)::int) <> 0;
    RETURN NULL;
END;
"""


def _moved(member: str, *, new: bool, old: bool) -> str:
    parts = []
    for present, rows, sign in ((new, "new_rows", 1), (old, "old_rows", -1)):
        if present:
            parts.append(
                f"SELECT recommendation_id, {member} AS member_id, {sign} AS k FROM {rows} "
                "WHERE recommendation_id IS NOT NULL"
            )
    return " UNION ALL ".join(parts)


OPERATIONS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", True, False),
    "update": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", True, True),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows", False, True),
}


def _recommendation_sql() -> str:
    statements = []
    for name, (event, referencing, new, old) in OPERATIONS.items():
        parts = []
        if old:
            parts.append(f"SELECT {COLUMNS}, -1 AS sign FROM old_rows")
        if new:
            parts.append(f"SELECT {COLUMNS}, 1 AS sign FROM new_rows")
        body = RECOMMENDATION_ROWS.format(changed=" UNION ALL ".join(parts))
        statements.append(
            f"""
CREATE FUNCTION recommendations_overview_recommendation_{name}() RETURNS trigger AS $$
BEGIN
    {body}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER recommendations_overview_{name} AFTER {event} ON {RECOMMENDATION}
    {referencing} FOR EACH STATEMENT
    EXECUTE FUNCTION recommendations_overview_recommendation_{name}();
"""
        )
    return "".join(statements)


def _pair_sql(table: str, member: str, dimension: str, short: str) -> str:
    statements = []
    for name, (event, referencing, new, old) in OPERATIONS.items():
        body = PAIR_ROWS.format(moved=_moved(member, new=new, old=old), table=table, member=member)
        statements.append(
            f"""
CREATE FUNCTION recommendations_overview_{short}_{name}() RETURNS trigger AS $$
{body}
$$ LANGUAGE plpgsql;
CREATE TRIGGER recommendations_overview_{name} AFTER {event} ON {table}
    {referencing} FOR EACH STATEMENT
    EXECUTE FUNCTION recommendations_overview_{short}_{name}('{dimension}');
"""
        )
    return "".join(statements)


def _current_sql() -> str:
    statements = []
    for name, (event, referencing, new, old) in OPERATIONS.items():
        parts = []
        if new:
            parts.append("SELECT assessor_id, status, 1 AS k FROM new_rows")
        if old:
            parts.append("SELECT assessor_id, status, -1 AS k FROM old_rows")
        statements.append(
            f"""
CREATE FUNCTION recommendations_overview_current_{name}() RETURNS trigger AS $$
BEGIN
    INSERT INTO {COUNTS} (dimension, key, status, n)
    SELECT 'assessor', assessor_id::text, status, sum(k)
    FROM ({" UNION ALL ".join(parts)}) moved
    GROUP BY assessor_id, status HAVING sum(k) <> 0;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER recommendations_overview_{name} AFTER {event} ON {CURRENT}
    {referencing} FOR EACH STATEMENT
    EXECUTE FUNCTION recommendations_overview_current_{name}();
"""
        )
    return "".join(statements)


# The numbers as they stand when the triggers start counting.
BACKFILL = (
    RECOMMENDATION_ROWS.format(changed=f"SELECT {COLUMNS}, 1 AS sign FROM {RECOMMENDATION}")
    + f"""
INSERT INTO {COUNTS} (dimension, key, status, n)
SELECT 'assessor', assessor_id::text, status, count(*) FROM {CURRENT} GROUP BY 2, 3;
"""
)


def _install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            _recommendation_sql()
            + _pair_sql(LINK, "instrument_id", "instrument", "link")
            + _pair_sql(THEMES, "theme_id", "theme", "theme")
            + _current_sql()
            + BACKFILL
        )


def _remove(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    statements = []
    for name in OPERATIONS:
        for table, short in (
            (RECOMMENDATION, "recommendation"),
            (LINK, "link"),
            (THEMES, "theme"),
            (CURRENT, "current"),
        ):
            statements.append(f"DROP TRIGGER IF EXISTS recommendations_overview_{name} ON {table};")
            statements.append(f"DROP FUNCTION IF EXISTS recommendations_overview_{short}_{name}();")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("\n".join(statements))


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0005_status_and_headline_periods"),
    ]

    operations = [
        migrations.CreateModel(
            name="OverviewCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("dimension", models.CharField(max_length=20)),
                ("key", models.CharField(blank=True, max_length=40)),
                ("status", models.CharField(blank=True, max_length=30)),
                ("n", models.IntegerField()),
            ],
            options={
                "verbose_name": "overview count",
                "verbose_name_plural": "overview counts",
            },
        ),
        migrations.RunPython(_install, _remove),
        migrations.RemoveIndex(model_name="recommendation", name="recommendation_due_idx"),
        migrations.AddIndex(
            model_name="recommendation",
            index=models.Index(
                fields=["follow_up_due", "headline_status"], name="recommendation_due_status_idx"
            ),
        ),
    ]
