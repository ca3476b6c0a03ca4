"""Usernames unique whatever their case, in the database too (a unique index on LOWER(username)).

Fails on a database that already holds two usernames differing only in case: rename one of them first.
"""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("username"),
                name="users_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
        ),
    ]
