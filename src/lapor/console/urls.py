from lapor.console.views import auth, inbox, manage, workspace

app_name = "console"
# Each area of the console lists its own URLs in its views module.
urlpatterns = [
    *auth.urlpatterns,
    *inbox.urlpatterns,
    *workspace.urlpatterns,
    *manage.urlpatterns,
]
