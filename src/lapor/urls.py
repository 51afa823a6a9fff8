from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from lapor.core import views as core_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.health, name="health"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("konsol/", include("lapor.console.urls")),
    path("", include("lapor.portal.urls")),
    prefix_default_language=False,
)
