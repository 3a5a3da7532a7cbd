"""Seed TaxRate from the rates shipped in data/rates.json."""

from django.db import migrations


def seed(apps, schema_editor):
    from billingdesk.documents.tax import default_rate_table

    TaxRate = apps.get_model("documents", "TaxRate")
    TaxRate.objects.bulk_create(
        [
            TaxRate(
                country=r.country,
                region=r.region,
                name=r.name,
                percent=r.percent,
                valid_from=r.valid_from,
                valid_to=r.valid_to,
            )
            for r in default_rate_table()
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
