"""What the apps above runs add to the run page, the runs list and /api/runs, registered at startup.

Runs knows none of those apps: each registers its panels and routes from its `AppConfig.ready()`,
the way apps register with the admin, and the run page shows whatever is registered.

    run_page.register_panel(RunPanel(name="notes", template="notes/_run_notes.html", context=notes_context))
    run_page.register_api("<uuid:run_id>/notes", api.run_notes)
    run_list.register_column(RunListColumn(name="notes", label="Notes", template="notes/_cell.html", cells=notes_of))
    run_list.register_filter(RunListFilter(name="noted", label="Notes", choices=(("yes", "With notes"),), apply=noted))
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.urls import slash_path
from apps.runs.models import Run

HEADER = "header"  # in the run's header beside its status, e.g. test verdicts (redrawn while the run is live)
BANNER = "banner"  # between the run's header and the debugger, e.g. a paused run's controls
PANEL = "panel"  # below the debugger


@dataclass(frozen=True)
class RunPanel:
    """A part of the run page. `template` is included with the page's context (`run`, `live`, ...)
    and, as `panel`, the dict `context(request=..., run=...)` returns; None leaves the panel out for
    that run. `styles` and `scripts` are static paths the page's head loads for it."""

    name: str
    template: str
    place: str = PANEL
    context: Callable[..., dict | None] | None = None
    styles: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.place not in (HEADER, BANNER, PANEL):
            raise ValueError(f"A run panel goes in {HEADER!r}, {BANNER!r} or {PANEL!r}, not {self.place!r}.")


@dataclass(frozen=True)
class ShownPanel:
    panel: RunPanel
    data: dict


@dataclass(frozen=True)
class TimelineEvent:
    """Something that happened to a step, drawn on the timeline as a row just above it, with a bar
    from `start` to `end` (None while it lasts): a pause at a breakpoint. `details` are (label, JSON
    value) pairs shown when the row is opened."""

    id: str  # unique on the page (an element id)
    step_index: int
    title: str
    summary: str
    start: datetime
    end: datetime | None
    tone: str = "warning"
    details: tuple[tuple[str, object], ...] = field(default_factory=tuple)


class RunPage:
    def __init__(self) -> None:
        # By name and by route: ready() may run again (tests), and must not show a panel twice.
        self._panels: dict[str, RunPanel] = {}
        self._routes: dict[str, Callable] = {}
        self._timelines: dict[str, Callable[..., list[TimelineEvent]]] = {}

    def register_panel(self, panel: RunPanel) -> None:
        self._panels[panel.name] = panel

    def register_api(self, route: str, view: Callable) -> None:
        """`view` answers /api/runs/<route> (`route` in Django's path syntax, e.g. "<uuid:run_id>/resume")."""
        self._routes[route.strip("/")] = view

    def register_timeline(self, name: str, events: Callable[..., list[TimelineEvent]]) -> None:
        """`events(run=..., first=..., last=...)` answers the events of the steps first..last of `run`."""
        self._timelines[name] = events

    def unregister(self, name: str) -> None:
        self._panels.pop(name, None)
        self._timelines.pop(name, None)

    def timeline_events(self, *, run: Run, first: int | None, last: int | None) -> dict[int, list[TimelineEvent]]:
        """The registered events of the steps first..last, by step index, oldest first."""
        found: dict[int, list[TimelineEvent]] = {}
        if first is None or last is None or not self._timelines:
            return found
        for events in self._timelines.values():
            for event in events(run=run, first=first, last=last):
                found.setdefault(event.step_index, []).append(event)
        for events in found.values():
            events.sort(key=lambda event: event.start)
        return found

    def panels(self) -> list[RunPanel]:
        return list(self._panels.values())

    def api_urlpatterns(self) -> list:
        """The registered routes, for apps.runs.api_urls (included at /api/runs)."""
        return [pattern for route, view in self._routes.items() for pattern in slash_path(f"/{route}", view)]

    def shown(self, *, request: HttpRequest, run: Run, place: str | None = None) -> list[ShownPanel]:
        """The panels this run shows (those of one `place`, if given), with their data, in the order
        they were registered."""
        shown = []
        for panel in self._panels.values():
            if place is not None and panel.place != place:
                continue
            data = panel.context(request=request, run=run) if panel.context else {}
            if data is not None:
                shown.append(ShownPanel(panel, data))
        return shown


run_page = RunPage()


@dataclass(frozen=True)
class RunListColumn:
    """A column of the runs list. `cells(runs=[...])` answers {run id: value} for the runs of the page,
    at once; `template` draws one cell with `cell` (the run's value, or None) and `run`."""

    name: str
    label: str
    template: str
    cells: Callable[..., dict]


@dataclass(frozen=True)
class RunListFilter:
    """A select of the runs list's filters, named `name`: `apply(runs=..., value=...)` narrows the
    runs to one of `choices` ((value, label) pairs); its first option, `everything`, filters nothing."""

    name: str
    label: str
    choices: tuple[tuple[str, str], ...] | Callable[..., tuple[tuple[str, str], ...]]
    apply: Callable[..., QuerySet[Run]]
    everything: str = "All runs"

    def choices_for(self, *, project_ids: list) -> tuple[tuple[str, str], ...]:
        """`choices`, or when they depend on the projects (their tests), what `choices(project_ids=...)` answers."""
        return self.choices(project_ids=project_ids) if callable(self.choices) else self.choices


class RunList:
    def __init__(self) -> None:
        self._columns: dict[str, RunListColumn] = {}
        self._filters: dict[str, RunListFilter] = {}

    def register_column(self, column: RunListColumn) -> None:
        self._columns[column.name] = column

    def register_filter(self, list_filter: RunListFilter) -> None:
        self._filters[list_filter.name] = list_filter

    def unregister(self, name: str) -> None:
        self._columns.pop(name, None)
        self._filters.pop(name, None)

    def filters(self, *, project_ids: list) -> list[dict]:
        """Each registered filter with its choices for these projects: {"name", "label", "everything", "choices"}."""
        return [
            {
                "name": f.name,
                "label": f.label,
                "everything": f.everything,
                "choices": f.choices_for(project_ids=project_ids),
            }
            for f in self._filters.values()
        ]

    def filtered(self, runs: QuerySet[Run], query, *, project_ids: list) -> tuple[QuerySet[Run], dict[str, str]]:
        """`runs` narrowed by the registered filters `query` names with a valid value, and those values."""
        chosen = {}
        for list_filter in self._filters.values():
            value = query.get(list_filter.name, "")
            if value and value in dict(list_filter.choices_for(project_ids=project_ids)):
                runs, chosen[list_filter.name] = list_filter.apply(runs=runs, value=value), value
        return runs, chosen

    def refused(self, query, *, project_ids: list) -> dict[str, list[str]]:
        """Errors for the registered filters `query` gives a value none of their choices has (the API's 400)."""
        errors = {}
        for list_filter in self._filters.values():
            value = query.get(list_filter.name, "")
            if not value:
                continue
            choices = dict(list_filter.choices_for(project_ids=project_ids))
            if value not in choices:
                errors[list_filter.name] = [f"Not one of: {', '.join(choices) or 'nothing yet'}."]
        return errors

    def columns(self, *, runs: list[Run]) -> list[dict]:
        """Each registered column with its cells for `runs`: {"column", "cells"}."""
        return [{"column": column, "cells": column.cells(runs=runs)} for column in self._columns.values()]


run_list = RunList()
