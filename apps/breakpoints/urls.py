from django.urls import path

from apps.breakpoints import views
from apps.core.urls import slash_path

app_name = "breakpoints"
urlpatterns = [
    *slash_path("breakpoints", views.breakpoint_list, name="list"),
    *slash_path("breakpoints/new", views.breakpoint_new, name="new"),
    path("breakpoints/test", views.breakpoint_test, name="test"),
    *slash_path("breakpoints/<uuid:breakpoint_id>/edit", views.breakpoint_edit, name="edit"),
    path("breakpoints/<uuid:breakpoint_id>/toggle", views.breakpoint_toggle, name="toggle"),
    path("breakpoints/<uuid:breakpoint_id>/delete", views.breakpoint_delete, name="delete"),
    # The paused-run controls, polled by the run page and usable as a page of its own.
    *slash_path("runs/<uuid:run_id>/breakpoint", views.run_controls, name="run_controls"),
    path("runs/<uuid:run_id>/breakpoint/resume", views.run_resume, name="run_resume"),
]
