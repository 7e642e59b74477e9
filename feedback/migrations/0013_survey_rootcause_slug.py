"""Surveys and root causes get a slug (the setup API upserts by it). Existing rows get one
from their name, made unique with a number; a name with no ASCII letters falls back to the
model's name."""

from typing import Any

from django.db import migrations, models
from django.utils.text import slugify

SLUG_LENGTH = 80


def backfill(apps: Any, schema_editor: Any) -> None:
    for model_name, fallback in (("Survey", "survey"), ("RootCause", "root-cause")):
        model = apps.get_model("feedback", model_name)
        taken: set[str] = set()
        for row in model.objects.order_by("id").only("id", "name"):
            base = slugify(row.name)[: SLUG_LENGTH - 8].strip("-") or fallback
            slug, n = base, 1
            while slug in taken:
                n += 1
                slug = f"{base}-{n}"
            taken.add(slug)
            model.objects.filter(pk=row.pk).update(slug=slug)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0012_ticket_subject_single_line"),
    ]

    operations = [
        migrations.AddField(
            model_name="rootcause",
            name="slug",
            field=models.SlugField(default="", max_length=SLUG_LENGTH),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="survey",
            name="slug",
            field=models.SlugField(default="", max_length=SLUG_LENGTH),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
