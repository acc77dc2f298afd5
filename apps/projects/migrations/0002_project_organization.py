"""Every project belongs to an organization: each existing user gets a personal organization, owns it,
and their projects move into it. Nothing changes hands."""

import uuid

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def personal_orgs(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Organization = apps.get_model("orgs", "Organization")
    Membership = apps.get_model("orgs", "Membership")
    Project = apps.get_model("projects", "Project")
    for user in User.objects.order_by("created_at").iterator():
        now = timezone.now()
        name = user.name or user.email.split("@")[0]
        org = Organization.objects.create(id=uuid.uuid4(), name=f"{name}'s organization", created_at=now, updated_at=now)
        Membership.objects.create(id=uuid.uuid4(), organization=org, user=user, role="owner", created_at=now, updated_at=now)
        Project.objects.filter(user=user).update(organization=org)


def forget_orgs(apps, schema_editor):
    apps.get_model("projects", "Project").objects.update(organization=None)
    apps.get_model("orgs", "Organization").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("orgs", "0001_organizations_members_invitations_audit"),
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="projects",
                to="orgs.organization",
            ),
        ),
        migrations.RunPython(personal_orgs, forget_orgs),
    ]
