from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.tokens import BlacklistMixin


class AccessToken(BlacklistMixin, tokens.AccessToken):
    """An access token that logout can revoke: it is checked against simplejwt's blacklist."""


class RefreshToken(tokens.RefreshToken):
    access_token_class = AccessToken


def tokens_for_user(user) -> dict:
    refresh = RefreshToken.for_user(user)
    refresh["email"] = user.email
    access = refresh.access_token
    access["email"] = user.email
    access.outstand()
    return {"access": str(access), "refresh": str(refresh)}
