from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.caches, Tags.security, deploy=True)
def throttles_shared(app_configs, **kwargs):
    """Each gunicorn worker counting on its own lets through the rate times the workers."""
    backend = settings.CACHES.get("throttles", {}).get("BACKEND")
    if backend in PER_PROCESS_CACHES:
        return [
            Warning(
                f"The throttles' cache ({backend}) is not shared between processes: each worker "
                "counts sign-in attempts and API requests on its own.",
                hint="Set REDIS_URL, or leave it unset to count in the database.",
                id="agentscope.W001",
            )
        ]
    return []
