import importlib

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# Recommendations whose as-of counts are added later, all at once.
#
# Migration 0007's triggers count each statement's recommendations as it
# runs. A bulk load of a hundred thousand recommendations, committed a
# hundred at a time, then wrote about 140 count rows for each (the changes
# of a hundred recommendations rarely fall on one day) and folded 13.5
# million rows at its end: at 10,000 recommendations, 17 s of counting and
# 11 s of folding; counted at once, the 100,000 took 26 s with the fold
# and an ANALYZE.
# Now the load names its recommendations in
# `recommendations_asofpending` before writing them. The triggers leave the
# recommendations named there alone, and `recommendations_as_of_add_pending()`
# later adds what each of them contributes as it then stands, in one
# statement grouped over all of them, and removes their rows.
#
# A change to a pending recommendation by another transaction is counted
# once either way: its statement's trigger locks the recommendation rows
# first (as in 0007) and only then reads which are pending, in a snapshot
# taken after the lock. Committed before the add locks the same rows, the
# change is in what the add counts and its trigger wrote nothing; committed
# after, the add had already removed the row, so the trigger counted the
# change against the state the add had counted. The add holds the table in
# SHARE ROW EXCLUSIVE mode, so two adds, or an add and a load naming more
# recommendations, take turns.
#
# The trigger functions are 0007's with that check; the bulk setting
# `recommendations.as_of_deferred` and `recommendations_as_of_add(bigint[])`
# are gone.

as_of = importlib.import_module("recommendations.migrations.0007_as_of_counts")

PENDING = "recommendations_asofpending"
RECOMMENDATION = as_of.RECOMMENDATION

# Of the given recommendations, those no load has left pending, looked up
# in the pending table's index whatever the planner last knew of its size:
# a plan made while it was empty would scan all of it for every id, and a
# load fills it with a hundred thousand rows.
NOT_PENDING_FUNCTION = f"""
CREATE FUNCTION recommendations_as_of_not_pending(ids bigint[]) RETURNS bigint[] AS $$
    SELECT ARRAY(
        SELECT t.id FROM unnest(ids) AS t(id)
        WHERE NOT EXISTS (SELECT 1 FROM {PENDING} p WHERE p.recommendation_id = t.id)
    )
$$ LANGUAGE sql STABLE SET enable_seqscan = off;
"""

# Run after the lock, so that its snapshot sees an add that held the lock before.
NOT_PENDING = """
    touched := recommendations_as_of_not_pending(touched);
    IF cardinality(touched) = 0 THEN
        RETURN NULL;
    END IF;"""


def _function(table: str, name: str, new: bool, old: bool) -> str:
    """0007's trigger function for one table and operation, leaving pending recommendations out."""
    touched, lock, write = as_of._parts(table, new, old)
    return f"""
CREATE OR REPLACE FUNCTION recommendations_as_of_{as_of._short(table)}_{name}()
RETURNS trigger AS $$
DECLARE
    touched bigint[] := ARRAY(
        SELECT DISTINCT t.id FROM ({touched}) AS t(id) WHERE t.id IS NOT NULL
    );
BEGIN
    IF cardinality(touched) = 0 THEN
        RETURN NULL;
    END IF;
    {lock}
    {NOT_PENDING}
    {write}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;
"""


def _functions() -> str:
    return "\n".join(
        _function(table, name, new, old)
        for table in as_of.COLUMNS
        for name, (_event, _referencing, new, old) in as_of.OPERATIONS.items()
    )


# Every table read through the pending table, which has statistics (unlike
# an array), so that the planner joins a hundred thousand recommendations by
# hashing rather than row by row. The pending rows are analysed first: a
# load has just written them. Memory enough to group them without spilling.
_PENDING_RELATIONS = {
    table: "({})".format(
        as_of._rows(
            table, table, f"{as_of._owner(table)} IN (SELECT recommendation_id FROM {PENDING})"
        )
    )
    for table in as_of.COLUMNS
}
ADD_PENDING = f"""
CREATE FUNCTION recommendations_as_of_add_pending() RETURNS integer AS $$
DECLARE
    added integer;
BEGIN
    LOCK TABLE {PENDING} IN SHARE ROW EXCLUSIVE MODE;
    SELECT count(*) INTO added FROM {PENDING};
    IF added = 0 THEN
        RETURN 0;
    END IF;
    ANALYZE {PENDING};
    PERFORM 1 FROM {RECOMMENDATION} WHERE id IN (SELECT recommendation_id FROM {PENDING})
        ORDER BY id FOR NO KEY UPDATE;
    {as_of.WRITE.format(contributions=as_of._contribution(_PENDING_RELATIONS, 1))}
    DELETE FROM {PENDING};
    RETURN added;
END;
$$ LANGUAGE plpgsql SET work_mem = '256MB';
"""


def _install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            NOT_PENDING_FUNCTION
            + _functions()
            + ADD_PENDING
            + "DROP FUNCTION IF EXISTS recommendations_as_of_add(bigint[]);"
        )


def _remove(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Back to 0007's functions, counting whatever was still pending."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT recommendations_as_of_add_pending()")
        cursor.execute("DROP FUNCTION recommendations_as_of_add_pending();")
        cursor.execute(
            "\n".join(
                as_of._function(table, name, new, old).replace(
                    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
                )
                for table in as_of.COLUMNS
                for name, (_event, _referencing, new, old) in as_of.OPERATIONS.items()
            )
            + as_of.ADD
            + "DROP FUNCTION recommendations_as_of_not_pending(bigint[]);"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0007_as_of_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="AsOfPending",
            fields=[
                ("recommendation_id", models.BigIntegerField(primary_key=True, serialize=False)),
            ],
            options={
                "verbose_name": "recommendation awaiting as-of counts",
                "verbose_name_plural": "recommendations awaiting as-of counts",
            },
        ),
        migrations.RunPython(_install, _remove),
    ]
