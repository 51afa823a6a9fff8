import pytest
from django.test import override_settings
from django.urls import clear_url_caches
from django.utils import translation

# The product's default language, whatever the test settings say.
pytestmark = pytest.mark.usefixtures("indonesian_default")


@pytest.fixture
def indonesian_default():
    # Reversed URLs are cached per language, and which language goes unprefixed depends on the default.
    clear_url_caches()
    with override_settings(LANGUAGE_CODE="id"), translation.override("id"):
        yield
    clear_url_caches()


@pytest.mark.django_db
def test_home_is_indonesian_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "id"
    assert b'<html lang="id">' in response.content
    assert "Lompat ke konten" in response.content.decode()


@pytest.mark.django_db
def test_home_switches_to_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/"
    response = client.get(response["Location"])
    assert b'<html lang="en">' in response.content
    assert "Skip to content" in response.content.decode()


@pytest.mark.django_db
def test_english_url_prefix(client):
    response = client.get("/en/")
    assert response.status_code == 200
    assert b'<html lang="en">' in response.content
