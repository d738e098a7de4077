from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# One function for every synced table. Arguments: the entity the feed names,
# a query turning the row (as jsonb, $1) into the keys it changes, and a mode:
# `direct` (the row is the entity: insert/update/delete by whether its key is
# in the new row, the old row or both), `derived` (the row is part of another
# entity's representation, so that entity is `update`d) or `published` (like
# direct, counting only published rows, as only those are synced).
CAPTURE = r"""
CREATE OR REPLACE FUNCTION tracker_change_capture() RETURNS trigger AS $$
DECLARE
    entity_name text := TG_ARGV[0];
    key_query text := TG_ARGV[1];
    mode text := TG_ARGV[2];
    new_keys text[] := '{}';
    old_keys text[] := '{}';
    changed_key text;
    operation_name text;
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) = to_jsonb(OLD) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
       AND (mode <> 'published' OR to_jsonb(NEW)->>'review_state' = 'published') THEN
        EXECUTE key_query INTO new_keys USING to_jsonb(NEW);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE')
       AND (mode <> 'published' OR to_jsonb(OLD)->>'review_state' = 'published') THEN
        EXECUTE key_query INTO old_keys USING to_jsonb(OLD);
    END IF;
    FOR changed_key IN
        SELECT DISTINCT k FROM unnest(coalesce(new_keys, '{}') || coalesce(old_keys, '{}')) AS k
        WHERE k IS NOT NULL
    LOOP
        IF mode = 'derived' THEN
            operation_name := 'update';
        ELSIF NOT changed_key = ANY(coalesce(old_keys, '{}')) THEN
            operation_name := 'insert';
        ELSIF NOT changed_key = ANY(coalesce(new_keys, '{}')) THEN
            operation_name := 'delete';
        ELSE
            operation_name := 'update';
        END IF;
        INSERT INTO tracker_change (txid, entity, key, operation, version, changed_at)
        SELECT pg_current_xact_id()::text::bigint, entity_name, changed_key, operation_name,
               coalesce(max(version), 0) + 1, clock_timestamp()
        FROM tracker_change WHERE entity = entity_name AND key = changed_key;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def _column(name: str) -> str:
    return f"SELECT ARRAY[$1->>'{name}']"


def _parent(table: str, column: str, foreign_key: str, key_column: str = "slug") -> str:
    return (
        f"SELECT ARRAY(SELECT {key_column} FROM {table} "
        f"WHERE id = ($1->>'{foreign_key}')::bigint)"
    )


def _synced_tables(apps: Apps) -> list[tuple[str, str, str, str]]:
    """(table, entity, key query, mode) for every table whose rows the feed reports."""

    def table(label: str) -> str:
        return str(apps.get_model(label)._meta.db_table)

    def through(label: str, field: str) -> str:
        model = apps.get_model(label)
        return str(model._meta.get_field(field).remote_field.through._meta.db_table)

    organisation = table("tracker.Organisation")
    instrument = table("instruments.Instrument")
    recommendation = table("recommendations.Recommendation")
    concern = table("recommendations.Concern")
    rows = [
        (organisation, "organisation", _column("slug"), "direct"),
        (table("instruments.Source"), "source", _column("key"), "direct"),
        (instrument, "instrument", _column("slug"), "direct"),
        (
            table("instruments.Provision"),
            "provision",
            f"SELECT ARRAY(SELECT slug || ':' || ($1->>'eid') FROM {instrument} "
            "WHERE id = ($1->>'instrument_id')::bigint)",
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
            f"SELECT ARRAY(SELECT slug FROM {instrument} "
            "WHERE id IN (($1->>'subject_id')::bigint, ($1->>'target_id')::bigint))",
            "derived",
        ),
        (
            table("instruments.TreatyParticipation"),
            "instrument",
            _parent(instrument, "slug", "instrument_id"),
            "derived",
        ),
        # Parts of a recommendation's or a concern's representation.
        (
            table("recommendations.CurrentAssessment"),
            "recommendation",
            _parent(recommendation, "code", "recommendation_id", "code"),
            "derived",
        ),
        (
            table("recommendations.ProvisionLink"),
            "recommendation",
            _parent(recommendation, "code", "recommendation_id", "code"),
            "derived",
        ),
        (
            table("recommendations.ProvisionLink"),
            "concern",
            _parent(concern, "code", "concern_id", "code"),
            "derived",
        ),
    ]
    for field in ("themes", "addressed_to", "sdg_targets"):
        rows.append(
            (
                through("recommendations.Recommendation", field),
                "recommendation",
                _parent(recommendation, "code", "recommendation_id", "code"),
                "derived",
            )
        )
    for field in ("themes", "answered_by"):
        rows.append(
            (
                through("recommendations.Concern", field),
                "concern",
                _parent(concern, "code", "concern_id", "code"),
                "derived",
            )
        )
    return rows


def _trigger_name(table: str, entity: str) -> str:
    return f"tracker_change_{entity}_{table}"[:63]


def install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(CAPTURE)
        for table, entity, key_query, mode in _synced_tables(apps):
            quoted_query = key_query.replace("'", "''")
            cursor.execute(
                f"CREATE TRIGGER {_trigger_name(table, entity)} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION tracker_change_capture('{entity}', '{quoted_query}', '{mode}')"
            )


def uninstall(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, entity, _key_query, _mode in _synced_tables(apps):
            cursor.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, entity)} ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS tracker_change_capture()")


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0004_api_keys_idempotency_change_feed_webhooks"),
        ("instruments", "0003_initial"),
        ("recommendations", "0002_initial"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
