"""The helpdesk's URLs under /helpdesk/, as its documentation mounts them."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("helpdesk/", include("helpdesk.urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
