from django.urls import path


def slash_path(route: str, view, name: str | None = None) -> list:
    """The route with and without a trailing slash, both served directly (no redirect)."""
    bare = route.rstrip("/")
    return [path(bare, view, name=name), path(bare + "/", view)]
