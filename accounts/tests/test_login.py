import pytest
from django.conf import settings
from django.urls import reverse


@pytest.mark.django_db
def test_login_page_is_chinese_and_pages_require_login(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert "登录" in response.content.decode()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_login_and_logout(personas, client):
    response = client.post(reverse("accounts:login"), {"username": "officer_a", "password": "test-pass-123"})
    assert response.status_code == 302
    page = client.get(reverse("home")).content.decode()
    assert "税源管理分局" in page  # the role label in the top bar
    assert "城东税务分局" in page
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_wrong_password_shows_chinese_error_and_locks_out(personas, client):
    url = reverse("accounts:login")
    response = client.post(url, {"username": "officer_a", "password": "wrong"})
    assert "用户名或密码不正确" in response.content.decode()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(url, {"username": "officer_a", "password": "wrong"})
    assert response.status_code == 429
    assert "已暂时锁定" in response.content.decode()
    # even the right password is refused while locked
    response = client.post(url, {"username": "officer_a", "password": "test-pass-123"})
    assert response.status_code == 429
