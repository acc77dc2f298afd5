from apps.accounts import api
from apps.core.urls import slash_path

# POST /api/auth/register is routed in agentscope/urls.py to projects: it creates the default project.
urlpatterns = [
    *slash_path("login", api.login),
    *slash_path("me", api.me),
    *slash_path("logout", api.logout),
]
