"""The user manager registers through the service, so migrations keep a plain manager (no schema change)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_username_case_insensitive_unique"),
    ]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[],
        ),
    ]
