import pytest


@pytest.mark.django_db
def test_health_reports_database(client, django_db_setup):
    from django.db import connection

    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}
