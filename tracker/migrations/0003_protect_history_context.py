from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# pghistory updates a context row while a transaction adds metadata to it, so
# the context table cannot refuse UPDATE; it refuses DELETE and TRUNCATE, like
# the event tables (whose triggers pgtrigger installs from the models).
PROTECT = """
CREATE OR REPLACE FUNCTION tracker_refuse_history_removal() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER tracker_context_no_delete BEFORE DELETE ON pghistory_context
    FOR EACH ROW EXECUTE FUNCTION tracker_refuse_history_removal();
CREATE TRIGGER tracker_context_no_truncate BEFORE TRUNCATE ON pghistory_context
    FOR EACH STATEMENT EXECUTE FUNCTION tracker_refuse_history_removal();
"""
UNPROTECT = """
DROP TRIGGER IF EXISTS tracker_context_no_delete ON pghistory_context;
DROP TRIGGER IF EXISTS tracker_context_no_truncate ON pghistory_context;
DROP FUNCTION IF EXISTS tracker_refuse_history_removal();
"""


def protect(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(PROTECT)


def unprotect(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(UNPROTECT)


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0002_roles"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [migrations.RunPython(protect, unprotect)]
