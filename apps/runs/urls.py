from apps.core.urls import slash_path
from apps.runs import price_views, views

app_name = "runs"
urlpatterns = [
    *slash_path("runs", views.run_list, name="list"),
    *slash_path("runs/<uuid:run_id>", views.run_detail, name="detail"),
    # The parts of the run page, each a partial of runs/detail.html that htmx asks for alone.
    *slash_path("runs/<uuid:run_id>/header", views.run_header, name="header"),
    *slash_path("runs/<uuid:run_id>/inspector", views.run_inspector, name="inspector"),
    *slash_path("runs/<uuid:run_id>/timeline", views.run_timeline, name="timeline"),
    *slash_path("runs/<uuid:run_id>/timeline/page", views.run_timeline_page, name="timeline_page"),
    *slash_path("runs/<uuid:run_id>/delete", views.run_delete, name="delete"),
    *slash_path("runs/<uuid:run_id>/replay", views.run_replay, name="replay"),
    *slash_path("runs/<uuid:run_id>/compare/<uuid:other_id>", views.run_compare, name="compare"),
    *slash_path("runs/compare", views.run_compare_pick, name="compare_pick"),
    # Settings, Prices (the project's own model prices; the other tabs are apps.projects')
    *slash_path("settings/prices", price_views.price_list, name="prices"),
    *slash_path("settings/prices/<uuid:project_id>/new", price_views.price_create, name="price_create"),
    *slash_path(
        "settings/prices/<uuid:project_id>/<uuid:price_id>/delete", price_views.price_delete, name="price_delete"
    ),
    *slash_path("sessions", views.session_list, name="sessions"),
    *slash_path("sessions/<str:session_id>", views.session_detail, name="session"),
]
