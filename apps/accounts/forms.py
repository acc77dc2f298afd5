from django import forms


class LoginForm(forms.Form):
    email = forms.EmailField(
        max_length=255,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email", "placeholder": "you@company.com"}),
    )
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "placeholder": "Your password"}),
    )


class RegisterForm(forms.Form):
    name = forms.CharField(
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "name", "placeholder": "Ada Lovelace"}),
    )
    email = forms.EmailField(
        max_length=255, widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@company.com"})
    )
    password = forms.CharField(
        max_length=128,
        strip=False,
        help_text="At least 8 characters, not entirely numeric, not a common password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "placeholder": "Choose a password"}),
    )
