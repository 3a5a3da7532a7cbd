"""Issued documents are immutable in the database itself, not only in ``Document.save``.

``QuerySet.update()``, ``bulk_update``, ``QuerySet.delete()`` and raw SQL bypass the model, so
triggers refuse, on PostgreSQL and SQLite alike:

* any ``DELETE`` of a document row;
* any ``UPDATE`` that changes a column other than the delivery facts (``message_id``,
  ``email_to``, ``emailed_at``, ``email_error``), except that the links to mirrored rows
  (``person_id``, ``customer_id``, ``charge_id``, ``refund_id``) may be set to NULL, which is
  what deleting a person or a mirrored row does (``on_delete=SET_NULL``); the document keeps
  its snapshots of the parties.

Both raise an integrity error (SQLSTATE 23001 on PostgreSQL, ``RAISE(ABORT)`` = constraint on
SQLite), which Django reports as ``IntegrityError``. ``TRUNCATE`` (PostgreSQL, table owner
only) is not covered: it is how a test database is emptied.

SQLite drops a table's triggers when Django rebuilds the table for some schema changes; a
later migration that alters ``documents_document`` must run ``SQLITE_CREATE`` again (the test
``test_triggers_are_installed`` fails otherwise).
"""

from django.db import migrations

MUTABLE = ("message_id", "email_to", "emailed_at", "email_error")
NULLABLE_LINKS = ("person_id", "customer_id", "charge_id", "refund_id")
FROZEN = (
    *("id", "kind", "series_id", "number", "issued_at", "supply_date", "source_key"),
    *("legal_entity_id", "brand_id", "original_id", "seller", "buyer", "lines", "tax_lines"),
    *("treatment", "tax_category", "tax_country", "prices_include_tax", "currency"),
    *("net", "tax", "gross", "language", "reason", "pdf", "has_facturx"),
)

def sqlite_create(frozen: tuple[str, ...]) -> list[str]:
    """The SQLite triggers over ``frozen`` columns (re-run by later migrations that add
    columns, since SQLite cannot compare whole rows)."""
    changed = " OR ".join(
        [f'NEW."{c}" IS NOT OLD."{c}"' for c in frozen]
        + [f'(NEW."{c}" IS NOT OLD."{c}" AND NEW."{c}" IS NOT NULL)' for c in NULLABLE_LINKS]
    )
    return [
        """CREATE TRIGGER IF NOT EXISTS documents_document_no_delete
        BEFORE DELETE ON documents_document
        BEGIN
            SELECT RAISE(ABORT, 'an issued document cannot be deleted; issue a credit note instead');
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS documents_document_no_update
        BEFORE UPDATE ON documents_document
        WHEN {changed}
        BEGIN
            SELECT RAISE(ABORT, 'an issued document cannot be changed; issue a credit note instead');
        END""",
    ]


SQLITE_CREATE = sqlite_create(FROZEN)
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS documents_document_no_delete",
    "DROP TRIGGER IF EXISTS documents_document_no_update",
]

_EXCEPT = ", ".join(f"'{c}'" for c in (*MUTABLE, *NULLABLE_LINKS))
_LINK_SET = " OR ".join(
    f"(NEW.{c} IS DISTINCT FROM OLD.{c} AND NEW.{c} IS NOT NULL)" for c in NULLABLE_LINKS
)
POSTGRES_CREATE = [
    f"""CREATE OR REPLACE FUNCTION documents_document_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'an issued document cannot be deleted; issue a credit note instead'
                USING ERRCODE = '23001', DETAIL = 'document ' || OLD.number;
        END IF;
        -- Every column, present and future, except the delivery facts and the links.
        IF (to_jsonb(NEW) - ARRAY[{_EXCEPT}]) IS DISTINCT FROM (to_jsonb(OLD) - ARRAY[{_EXCEPT}])
           OR {_LINK_SET} THEN
            RAISE EXCEPTION 'an issued document cannot be changed; issue a credit note instead'
                USING ERRCODE = '23001', DETAIL = 'document ' || OLD.number;
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER documents_document_immutable
    BEFORE UPDATE OR DELETE ON documents_document
    FOR EACH ROW EXECUTE FUNCTION documents_document_immutable()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS documents_document_immutable ON documents_document",
    "DROP FUNCTION IF EXISTS documents_document_immutable()",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("documents", "0002_seed_tax_rates")]
    operations = [migrations.RunPython(create, drop)]
