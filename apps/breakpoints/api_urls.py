from apps.breakpoints import api
from apps.core.urls import slash_path

urlpatterns = [
    *slash_path("", api.breakpoint_list),
    *slash_path("/test", api.breakpoint_test),
    *slash_path("/<uuid:breakpoint_id>", api.breakpoint_detail),
    *slash_path("/<uuid:breakpoint_id>/toggle", api.breakpoint_toggle),
]
