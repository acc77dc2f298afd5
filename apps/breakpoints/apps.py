from django.apps import AppConfig


class BreakpointsConfig(AppConfig):
    name = "apps.breakpoints"
