"""What the apps above runs add to the run page and to /api/runs, registered at startup.

Runs knows none of those apps: each registers its panels and routes from its `AppConfig.ready()`,
the way apps register with the admin, and the run page shows whatever is registered.

    run_page.register_panel(RunPanel(name="notes", template="notes/_run_notes.html", context=notes_context))
    run_page.register_api("<uuid:run_id>/notes", api.run_notes)
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from apps.core.urls import slash_path
from apps.runs.models import Run

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
        if self.place not in (BANNER, PANEL):
            raise ValueError(f"A run panel goes in {BANNER!r} or {PANEL!r}, not {self.place!r}.")


@dataclass(frozen=True)
class ShownPanel:
    panel: RunPanel
    data: dict


class RunPage:
    def __init__(self) -> None:
        # By name and by route: ready() may run again (tests), and must not show a panel twice.
        self._panels: dict[str, RunPanel] = {}
        self._routes: dict[str, Callable] = {}

    def register_panel(self, panel: RunPanel) -> None:
        self._panels[panel.name] = panel

    def register_api(self, route: str, view: Callable) -> None:
        """`view` answers /api/runs/<route> (`route` in Django's path syntax, e.g. "<uuid:run_id>/resume")."""
        self._routes[route.strip("/")] = view

    def unregister(self, name: str) -> None:
        self._panels.pop(name, None)

    def panels(self) -> list[RunPanel]:
        return list(self._panels.values())

    def api_urlpatterns(self) -> list:
        """The registered routes, for apps.runs.api_urls (included at /api/runs)."""
        return [pattern for route, view in self._routes.items() for pattern in slash_path(f"/{route}", view)]

    def shown(self, *, request: HttpRequest, run: Run) -> list[ShownPanel]:
        """The panels this run shows, with their data, in the order they were registered."""
        shown = []
        for panel in self._panels.values():
            data = panel.context(request=request, run=run) if panel.context else {}
            if data is not None:
                shown.append(ShownPanel(panel, data))
        return shown


run_page = RunPage()
