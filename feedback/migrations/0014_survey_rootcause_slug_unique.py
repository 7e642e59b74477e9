"""The slugs backfilled by 0013 become unique; a migration of its own, so that PostgreSQL
alters the tables after the backfill's transaction has committed."""

from django.db import migrations, models

SLUG_LENGTH = 80


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0013_survey_rootcause_slug"),
    ]

    operations = [
        migrations.AlterField(
            model_name="rootcause",
            name="slug",
            field=models.SlugField(
                help_text="Its stable name for the API (upserts go by it).",
                max_length=SLUG_LENGTH,
                unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="survey",
            name="slug",
            field=models.SlugField(
                help_text="Its stable name for the API (upserts go by it).",
                max_length=SLUG_LENGTH,
                unique=True,
            ),
        ),
    ]
