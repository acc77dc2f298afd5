from django import forms


class LoginForm(forms.Form):
    email = forms.EmailField(
        max_length=255, widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class RegisterForm(forms.Form):
    name = forms.CharField(max_length=255, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(max_length=255, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
