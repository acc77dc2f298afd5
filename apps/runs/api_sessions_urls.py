from apps.core.urls import slash_path
from apps.runs import api_sessions

urlpatterns = [
    *slash_path("", api_sessions.session_list),
    *slash_path("/<str:session_id>", api_sessions.session_detail),
]
