"""403, 404 and 500 are our pages: in the app's frame, in Chinese, with the way back."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.request_context import bind_request_id
from accounts.views import server_error

pytestmark = pytest.mark.django_db


def _in_frame(html: str):
    assert 'class="app-menu' in html  # the signed-in user's menu
    assert "返回工作台" in html


def test_404_outside_the_scope_is_chinese_in_the_frame(client_for, taxpayer_b):
    response = client_for("officer_a").get(reverse("taxpayers:detail", args=[taxpayer_b.pk]))
    assert response.status_code == 404
    html = response.content.decode()
    _in_frame(html)
    assert "页面不存在" in html and "管辖范围" in html
    assert "not found" not in html.lower() and "scope" not in html


def test_403_is_chinese_in_the_frame(client_for):
    response = client_for("officer_a").get(reverse("accounts:audit_list"))
    assert response.status_code == 403
    html = response.content.decode()
    _in_frame(html)
    assert "无权访问" in html and "信息中心" in html
    assert "Forbidden" not in html


def test_500_is_ours_with_the_request_id(personas):
    request = RequestFactory().get("/")
    request.user = personas["refund_officer"]
    with bind_request_id("req-500-test"):
        response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "系统出错" in html and "req-500-test" in html and "返回工作台" in html


def test_500_page_renders_even_when_the_frame_cannot(monkeypatch):
    """Whatever broke the request (here: the user lookup) must not break the error page too."""

    class Broken:
        def __getattr__(self, name):
            raise RuntimeError("database unavailable")

    request = RequestFactory().get("/")
    request.user = Broken()
    response = server_error(request)
    assert response.status_code == 500
    assert "系统出错" in response.content.decode()
