"""The dashboard has no tables of its own: its daily rollup is derived data kept by the runs' write
path (apps.runs.rollup)."""
