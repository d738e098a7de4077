import importlib

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# The change feed's triggers, once per statement instead of once per row.
#
# Migration 0005 fired a PL/pgSQL function for every row, which ran its key
# query as dynamic SQL (parsed and planned each time) and looked up the
# key's last version once per key. A bulk insert of a million assessments
# paid that a million times: about half the database time of generating
# synthetic data, and a share of every API write.
#
# Here each synced table has one function per entity it feeds, with static
# SQL (planned once per session) over the statement's transition tables:
# the keys the new rows name and the keys the old rows named, joined, give
# one event per key and statement: `insert` for a key only among the new,
# `delete` for one only among the old, `update` for one in both, or always
# `update` where the table is only part of another entity's representation.
# An UPDATE leaves out the rows it did not change. An assessment counts only
# while published. A statement that touches several rows of one entity
# (three links of one recommendation, say) now makes one event, not three;
# the feed serves the entity as it stands, so nothing is lost.
#
# (PostgreSQL allows transition tables only on single-event triggers, so
# each function is attached three times: after INSERT, UPDATE and DELETE.)

CHANGE = "tracker_change"

CAPTURE = """
INSERT INTO {change} (txid, entity, key, operation, version, changed_at)
SELECT pg_current_xact_id()::text::bigint, '{entity}', c.key, c.operation,
       coalesce((
           SELECT max(t.version) FROM {change} t
           WHERE t.entity = '{entity}' AND t.key = c.key
       ), 0) + 1,
       clock_timestamp()
FROM (
    SELECT coalesce(n.key, o.key) AS key,
           CASE WHEN {derived} THEN 'update'
                WHEN o.key IS NULL THEN 'insert'
                WHEN n.key IS NULL THEN 'delete'
                ELSE 'update' END AS operation
    FROM (SELECT DISTINCT key::text AS key FROM ({new_keys}) k WHERE key IS NOT NULL) n
    FULL JOIN (SELECT DISTINCT key::text AS key FROM ({old_keys}) k WHERE key IS NOT NULL) o
        ON o.key = n.key
) c
ORDER BY c.key;
"""

NO_ROWS = "SELECT NULL::text AS key WHERE false"

FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {on_insert}
    ELSIF TG_OP = 'UPDATE' THEN
        {on_update}
    ELSE
        {on_delete}
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

EVENTS = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def _column(name: str) -> str:
    return f"SELECT r.{name} AS key FROM {{rows}} r"


def _parent(table: str, foreign_key: str, key_column: str) -> str:
    return f"SELECT p.{key_column} AS key FROM {{rows}} r JOIN {table} p ON p.id = r.{foreign_key}"


def synced_tables(apps: Apps) -> list[tuple[str, str, str, str]]:
    """(table, entity, key query over `{rows}` aliased r, mode) for every table the feed reports.

    Modes: `direct` (the row is the entity), `derived` (the row is part of
    another entity, which is `update`d) and `published` (direct, counting
    only published rows, the only ones synced).
    """

    def table(label: str) -> str:
        return str(apps.get_model(label)._meta.db_table)

    def through(label: str, field: str) -> str:
        model = apps.get_model(label)
        return str(model._meta.get_field(field).remote_field.through._meta.db_table)

    instrument = table("instruments.Instrument")
    recommendation = table("recommendations.Recommendation")
    concern = table("recommendations.Concern")
    link = table("recommendations.ProvisionLink")
    rows = [
        (table("tracker.Organisation"), "organisation", _column("slug"), "direct"),
        (table("instruments.Source"), "source", _column("key"), "direct"),
        (instrument, "instrument", _column("slug"), "direct"),
        (
            table("instruments.Provision"),
            "provision",
            f"SELECT i.slug || ':' || r.eid AS key FROM {{rows}} r "
            f"JOIN {instrument} i ON i.id = r.instrument_id",
            "direct",
        ),
        (table("instruments.Citation"), "citation", _column("key"), "direct"),
        (table("recommendations.Theme"), "theme", _column("slug"), "direct"),
        (recommendation, "recommendation", _column("code"), "direct"),
        (concern, "concern", _column("code"), "direct"),
        (table("recommendations.StatusAssessment"), "assessment", _column("key"), "published"),
        # Parts of an instrument's representation.
        (
            table("instruments.InstrumentRelation"),
            "instrument",
            f"SELECT i.slug AS key FROM {{rows}} r "
            f"JOIN {instrument} i ON i.id IN (r.subject_id, r.target_id)",
            "derived",
        ),
        (
            table("instruments.TreatyParticipation"),
            "instrument",
            _parent(instrument, "instrument_id", "slug"),
            "derived",
        ),
        # Parts of a recommendation's or a concern's representation.
        (
            table("recommendations.CurrentAssessment"),
            "recommendation",
            _parent(recommendation, "recommendation_id", "code"),
            "derived",
        ),
        (link, "recommendation", _parent(recommendation, "recommendation_id", "code"), "derived"),
        (link, "concern", _parent(concern, "concern_id", "code"), "derived"),
    ]
    for field in ("themes", "addressed_to", "sdg_targets"):
        rows.append(
            (
                through("recommendations.Recommendation", field),
                "recommendation",
                _parent(recommendation, "recommendation_id", "code"),
                "derived",
            )
        )
    for field in ("themes", "answered_by"):
        rows.append(
            (
                through("recommendations.Concern", field),
                "concern",
                _parent(concern, "concern_id", "code"),
                "derived",
            )
        )
    return rows


def _name(table: str, entity: str) -> str:
    return f"tracker_change_{entity}_{table}"[:63]


def _function(table: str, entity: str, key_query: str, mode: str) -> str:
    published = " WHERE x.review_state = 'published'" if mode == "published" else ""

    def rows(transition: str, other: str | None = None) -> str:
        unchanged = (
            f" AND NOT EXISTS (SELECT 1 FROM {other} y WHERE y.id = x.id "
            "AND to_jsonb(y) = to_jsonb(x))"
            if other
            else ""
        )
        where = published + unchanged
        if where.startswith(" AND"):
            where = " WHERE" + where[4:]
        return key_query.format(rows=f"(SELECT x.* FROM {transition} x{where})")

    def capture(new_keys: str, old_keys: str) -> str:
        return CAPTURE.format(
            change=CHANGE,
            entity=entity,
            derived="true" if mode == "derived" else "false",
            new_keys=new_keys,
            old_keys=old_keys,
        )

    return FUNCTION.format(
        name=_name(table, entity),
        on_insert=capture(rows("new_rows"), NO_ROWS),
        on_update=capture(rows("new_rows", "old_rows"), rows("old_rows", "new_rows")),
        on_delete=capture(NO_ROWS, rows("old_rows")),
    )


def install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # The row-level triggers of 0005, found by the function they call.
        cursor.execute(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgfoid = 'tracker_change_capture'::regproc"
        )
        for trigger, table in cursor.fetchall():
            cursor.execute(f"DROP TRIGGER {trigger} ON {table}")
        cursor.execute("DROP FUNCTION tracker_change_capture()")
        for table, entity, key_query, mode in synced_tables(apps):
            name = _name(table, entity)
            cursor.execute(_function(table, entity, key_query, mode))
            for event, referencing in EVENTS.items():
                cursor.execute(
                    f"CREATE TRIGGER {name[:56]}_{event.lower()[:3]} "
                    f"AFTER {event} ON {table} {referencing} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
                )


def uninstall(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, entity, _key_query, _mode in synced_tables(apps):
            name = _name(table, entity)
            for event in EVENTS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name[:56]}_{event.lower()[:3]} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
    row_level = importlib.import_module("tracker.migrations.0005_change_feed_triggers")
    row_level.install(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0007_history_context_without_subtransactions"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
