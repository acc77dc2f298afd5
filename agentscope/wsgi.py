import os

from django.core.wsgi import get_wsgi_application
from django.urls import resolve

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentscope.settings")
application = get_wsgi_application()
# Import every view as the worker starts (resolving a path loads the URLconf, which imports them all)
# rather than on its first request, which would wait half a second of CPU for it.
resolve("/health")
