from apps.core.urls import slash_path
from apps.testing import views

app_name = "testing"
urlpatterns = [
    *slash_path("tests", views.test_list, name="list"),
]
