# The response rate's raw tail reads invitations by a range of sent_at; see Invitation.Meta.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0019_ticket_rollups"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(
                condition=models.Q(("purpose", "survey"), ("sent_at__isnull", False)),
                fields=["sent_at"],
                name="invitation_sent_idx",
            ),
        ),
    ]
