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


def _fail_until_locked(client, username="officer_a", **extra):
    url = reverse("accounts:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(url, {"username": username, "password": "wrong"}, **extra)
    assert response.status_code == 429
    return url


@pytest.mark.django_db
def test_attempts_during_a_lock_do_not_extend_it(personas, client):
    """The lock ends AXES_COOLOFF_TIME after it began, however often someone knocks meanwhile."""
    import datetime as dt

    import time_machine

    start = dt.datetime(2026, 11, 17, 9, 0, tzinfo=dt.UTC)
    cooloff = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    with time_machine.travel(start, tick=False):
        url = _fail_until_locked(client)
    with time_machine.travel(start + cooloff - dt.timedelta(minutes=1), tick=False):
        assert client.post(url, {"username": "officer_a", "password": "wrong"}).status_code == 429
        assert client.post(url, {"username": "officer_a", "password": "test-pass-123"}).status_code == 429
    with time_machine.travel(start + cooloff + dt.timedelta(minutes=1), tick=False):
        response = client.post(url, {"username": "officer_a", "password": "test-pass-123"})
        assert response.status_code == 302


@pytest.mark.django_db
def test_a_stranger_elsewhere_cannot_lock_the_officer_out(personas, client):
    from django.test import Client

    _fail_until_locked(client, REMOTE_ADDR="203.0.113.9")
    desk = Client(REMOTE_ADDR="10.1.2.3")
    response = desk.post(reverse("accounts:login"), {"username": "officer_a", "password": "test-pass-123"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_behind_the_proxy_lockout_and_audit_use_the_real_client(personas, settings):
    """With one trusted proxy the client is the address the proxy appended, not the proxy's, nor one the
    client forged to the left of it."""
    from django.test import Client

    from accounts.client_ip import client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    _fail_until_locked(attacker)
    # Another client through the same proxy is not locked out.
    colleague = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8")
    response = colleague.post(reverse("accounts:login"), {"username": "officer_a", "password": "test-pass-123"})
    assert response.status_code == 302

    from django.test import RequestFactory

    request = RequestFactory().get("/", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    assert client_ip(request) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == proxy  # no trusted proxy: the header is not believed


@pytest.mark.django_db
def test_audit_rows_carry_the_client_behind_the_proxy(personas, settings, taxpayer_a):
    from django.test import Client

    from accounts.models import AuditEvent

    settings.TRUSTED_PROXY_COUNT = 1
    officer = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    officer.force_login(personas["refund_officer"])
    response = officer.post(reverse("taxpayers:reveal_contacts", args=[taxpayer_a.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.filter(verb="view_contacts").latest("pk")
    assert event.ip_address == "198.51.100.7"


@pytest.fixture
def low_rates(settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_THROTTLE_RATES = {"sign_in": "3/min", "api_user": "5/min", "api_anon": "5/min"}
    yield
    cache.clear()


@pytest.mark.django_db
def test_sign_in_is_throttled_per_address_across_usernames(personas, low_rates):
    from django.test import Client

    client = Client(REMOTE_ADDR="198.51.100.20")
    url = reverse("accounts:login")
    for username in ("officer_a", "officer_b", "supervisor"):
        assert client.post(url, {"username": username, "password": "wrong"}).status_code == 200
    response = client.post(url, {"username": "admin", "password": "test-pass-123"})
    assert response.status_code == 429
    assert "登录尝试过于频繁" in response.content.decode()
    assert "_auth_user_id" not in client.session  # not signed in, even with the right password
    other = Client(REMOTE_ADDR="198.51.100.21")
    assert other.post(url, {"username": "admin", "password": "test-pass-123"}).status_code == 302


@pytest.mark.django_db
def test_api_is_throttled_per_user_and_the_token_endpoint_per_address(personas, low_rates):
    from rest_framework.test import APIClient

    client = APIClient(REMOTE_ADDR="198.51.100.30")
    client.force_authenticate(personas["officer_a"])
    statuses = [client.get(reverse("api:taxpayer-list")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    anon = APIClient(REMOTE_ADDR="198.51.100.31")
    statuses = [anon.post(reverse("api:token"), {"username": "x", "password": "y"}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]


@pytest.mark.django_db
def test_api_token_expires_and_is_revoked_at_logout(personas, settings):
    import datetime as dt

    import time_machine
    from django.test import Client
    from rest_framework.test import APIClient

    api = APIClient()
    response = api.post(reverse("api:token"), {"username": "officer_a", "password": "test-pass-123"})
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(reverse("api:taxpayer-list")).status_code == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=settings.API_TOKEN_TTL_HOURS, minutes=1)
    with time_machine.travel(later):
        response = api.get(reverse("api:taxpayer-list"))
        assert response.status_code == 401
        assert "令牌已过期" in response.json()["detail"]

    token = APIClient().post(reverse("api:token"), {"username": "officer_a", "password": "test-pass-123"}).json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
    assert api.get(reverse("api:taxpayer-list")).status_code == 200
    web = Client()
    web.force_login(personas["officer_a"])
    web.post(reverse("accounts:logout"))
    assert api.get(reverse("api:taxpayer-list")).status_code == 401
