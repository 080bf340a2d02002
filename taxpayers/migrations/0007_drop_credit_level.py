"""The registry's single 纳税信用级别 and its year go: ratings are a history in the credit app, which copied every
level held here into that history (credit 0002) before this runs."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("taxpayers", "0006_taxpayer_sme_flags"),
        ("credit", "0002_ratings_from_credit_level"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="taxpayer",
            name="taxpayers_t_credit__b0a2cf_idx",
        ),
        migrations.RemoveField(
            model_name="taxpayer",
            name="credit_level",
        ),
        migrations.RemoveField(
            model_name="taxpayer",
            name="credit_year",
        ),
    ]
