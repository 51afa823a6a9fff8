"""The WSGI application gunicorn serves for the helpdesk comparison."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_bench_settings")
application = get_wsgi_application()
