from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from pghistory.models import Context

# Every history trigger calls _pgh_attach_context() once per row. pghistory's
# own version reads its settings inside an EXCEPTION block: a subtransaction,
# rolled back whenever no context is set (the read fails), and each such
# rollback walks the trigger events the transaction has queued so far (its
# deferred foreign key checks), so the cost of a row grew with the rows
# before it. Inside a context it upserted the context row for every history
# row, locking it again each time. Measured inserting assessments outside
# any context (with pgtrigger's like check kept off its error path): 0.12 ms
# a row with 2,000 in one transaction and 0.23 ms with 20,000 for pghistory's
# version, 0.09 ms for either count for this one; inside a context 0.092
# against 0.086 ms.
#
# This version has the same signature and result. `current_setting(..., true)`
# returns NULL for a setting never set and '' for one set earlier in the
# session, both meaning "no context", so no EXCEPTION block is needed. The
# context row is written only when this transaction has not yet written
# this id with this metadata: the last one written is remembered in a
# transaction-local setting, which a rolled-back savepoint restores along
# with the row, so the two never disagree. Nested pghistory.context() calls
# change the metadata mid-transaction, which changes the fingerprint and so
# writes the row again. A malformed id or metadata (pghistory never sends
# one) now fails the statement instead of silently dropping the context.
#
# pghistory reinstalls its own version after every migrate only when
# PGHISTORY_INSTALL_CONTEXT_FUNC_ON_MIGRATE is set; tracker/settings.py must
# not set it (tests/history/test_context_function.py checks the function).
ATTACH_CONTEXT = """
CREATE OR REPLACE FUNCTION _pgh_attach_context()
RETURNS pghistory_context.id%TYPE AS $$
DECLARE
    _context_id TEXT := NULLIF(current_setting('pghistory.context_id', true), '');
    _context_metadata TEXT := NULLIF(current_setting('pghistory.context_metadata', true), '');
    _fingerprint TEXT;
BEGIN
    IF _context_id IS NULL OR _context_metadata IS NULL THEN
        RETURN NULL;
    END IF;
    _fingerprint := _context_id || ':' || md5(_context_metadata);
    IF current_setting('tracker.history_context_written', true)
            IS DISTINCT FROM _fingerprint THEN
        INSERT INTO pghistory_context (id, metadata, created_at, updated_at)
            VALUES (_context_id::uuid, _context_metadata::jsonb, NOW(), NOW())
            ON CONFLICT (id) DO UPDATE
                SET metadata = EXCLUDED.metadata,
                    updated_at = EXCLUDED.updated_at
                WHERE pghistory_context.metadata != EXCLUDED.metadata;
        PERFORM set_config('tracker.history_context_written', _fingerprint, true);
    END IF;
    RETURN _context_id::uuid;
END;
$$ LANGUAGE plpgsql;
"""


def install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(ATTACH_CONTEXT)


def reinstall_pghistory_function(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Context.install_pgh_attach_context_func(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0006_webhook_acting_user_and_schedule"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [migrations.RunPython(install, reinstall_pghistory_function)]
