def drop_trailing_slash_twins(endpoints):
    """Every route is served with and without a trailing slash; document each once (without)."""
    paths = {path for path, *_ in endpoints}
    return [e for e in endpoints if not (e[0].endswith("/") and e[0].rstrip("/") in paths)]
