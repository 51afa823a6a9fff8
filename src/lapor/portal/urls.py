from django.urls import path

from lapor.portal.views import accounts, feed, filing, home, tracking

app_name = "portal"
# Each area of the portal lists its own URLs in its views module.
urlpatterns = [
    path("", home.home, name="home"),
    path("favicon.ico", home.favicon, name="favicon"),
    *filing.urlpatterns,
    *tracking.urlpatterns,
    *feed.urlpatterns,
    *accounts.urlpatterns,
]
