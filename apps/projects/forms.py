from django import forms

from apps.projects.services import DEFAULT_PROJECT_NAME


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"placeholder": "e.g. Support agent"}))
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What the agents in this project do"}),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("A project needs a name.")
        return name

    def clean_description(self) -> str | None:
        return self.cleaned_data["description"].strip() or None


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. production-agent", "autocomplete": "off"}),
    )


class ProjectDeleteForm(forms.Form):
    confirm_name = forms.CharField(max_length=255, strip=False)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if typed != self.project.name.strip():
            raise forms.ValidationError("Type the project name exactly to delete it.")
        return typed


RETENTION_CHOICES = (7, 14, 30, 60, 90, 180, 365, 730)


class RetentionForm(forms.Form):
    """A project's retention: the site default, a number of days, or forever ("" / N / "0")."""

    retention_days = forms.TypedChoiceField(
        label="Keep runs for", coerce=int, empty_value=None, required=False, choices=()
    )

    def __init__(self, *args, site_days: int | None, current: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        default = f"{site_days} days" if site_days else "forever"
        days = sorted({*RETENTION_CHOICES, *([current] if current else [])})
        self.fields["retention_days"].choices = [
            ("", f"Site default ({default})"),
            *((n, f"{n} days") for n in days),
            (0, "Forever"),
        ]


class OrganizationForm(forms.Form):
    name = forms.CharField(label="Organization name", max_length=255)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("An organization needs a name.")
        return name


class OrganizationNewForm(OrganizationForm):
    """A new organization and its first project, in one form."""

    name = forms.CharField(
        label="Organization name", max_length=255, error_messages={"required": "An organization needs a name."},
        widget=forms.TextInput(attrs={"placeholder": "e.g. Acme support"}),
    )  # fmt: skip
    project_name = forms.CharField(
        label="First project", max_length=255, initial=DEFAULT_PROJECT_NAME,
        error_messages={"required": "The first project needs a name."},
        help_text="Every organization starts with one project; you can rename it or add more later.",
    )  # fmt: skip


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=255, widget=forms.EmailInput(attrs={"placeholder": "teammate@example.com"}))
    role = forms.ChoiceField(
        choices=[("viewer", "Viewer"), ("member", "Member"), ("admin", "Admin"), ("owner", "Owner")]
    )


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, max_length=64)
    actor = forms.CharField(
        required=False, max_length=255, widget=forms.TextInput(attrs={"placeholder": "Email or key"})
    )
