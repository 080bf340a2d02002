"""Passwords: the validators speak Chinese, the admin site can no longer set a password, resets happen only in the
product under the two-person rule and audited, a temporary password must be replaced at the next sign-in, and
修改密码 works for everyone."""

import json
import logging
import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import (
    get_default_password_validators,
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import AuditEvent, PasswordResetRequest, User
from accounts.passwords import ChineseMinimumLengthValidator, temporary_password
from accounts.role_selectors import reset_needs_second_person
from accounts.roles import RoleCode
from accounts.services import password_reset_approve, user_password_change, user_password_reset
from core.errors import ApplicationError
from notify.models import InboxNotification

pytestmark = pytest.mark.django_db

OLD = "test-pass-123"  # the personas' password (conftest.py)
CHANGE = reverse("accounts:password_change")
REQUESTS = reverse("accounts:role_requests")
ASCII_LETTERS = re.compile(r"[A-Za-z]")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reset_url(user) -> str:
    return reverse("accounts:user_password_reset", args=[user.pk])


def _reset(client, user, *, reason="本人忘记密码，电话核实", confirmed=True):
    data = {"reset-reason": reason}
    if confirmed:
        data["confirmed"] = "1"
    return client.post(_reset_url(user), data)


def _shown_password(response) -> str:
    match = re.search(r'id="temporary-password"[^>]*>([^<]+)<', response.content.decode())
    assert match, "the temporary password is shown"
    return match.group(1).strip()


def _no_password_in_audit(*secrets: str) -> None:
    """No audit row carries the password nor its hash, in any column."""
    rows = list(AuditEvent.objects.values())
    assert rows
    text = json.dumps(rows, default=str, ensure_ascii=False)
    for secret in secrets:
        assert secret not in text


@pytest.fixture
def second_admin(personas, org):
    user = User.objects.create_user(username="admin2", password=OLD, full_name="第二管理员", branch=org["bureau"])
    user.groups.add(Group.objects.get(name=RoleCode.ADMIN.value))
    return user


# --- the validators in Chinese --------------------------------------------------------------------------------


def _messages(password, user=None) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        validate_password(password, user)
    return caught.value.messages


def test_every_validator_speaks_chinese():
    names = [type(v).__name__ for v in get_default_password_validators()]
    assert names == [
        "UserAttributeSimilarityValidator",
        "ChineseMinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    user = User(username="zhangsanfeng", full_name="张三丰")
    with translation.override("zh-hans"):
        assert _messages("short") == ["密码太短，至少需要 10 个字符。"]
        assert _messages("password123") == ["这个密码太常见了。"]
        assert _messages("73619284051736") == ["密码只包含数字。"]
        similar = _messages("zhangsanfeng1", user)
        assert len(similar) == 1 and "太相似" in similar[0] and "用户名" in similar[0]
        texts = password_validators_help_texts()
        assert len(texts) == 4 and "密码至少包含 10 个字符。" in texts
        for message in [*texts, *_messages("short"), *similar]:
            assert not ASCII_LETTERS.search(message), message
    # Whatever the language, our validator's own words are Chinese (the catalog had no plural form).
    with translation.override("en"):
        assert ChineseMinimumLengthValidator(min_length=10).get_error_message() == "密码太短，至少需要 10 个字符。"


def test_a_temporary_password_is_random_and_passes_the_validators(personas):
    user = personas["officer_a"]
    passwords = {temporary_password(user) for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        validate_password(password, user)
        assert len(password) == 12 and not set(password) & set("0O1lI")


# --- the admin site no longer sets passwords -----------------------------------------------------------------


def test_the_admin_site_refuses_to_set_a_password(personas, django_user_model):
    admin = personas["admin"]
    admin.is_staff = True
    admin.save()
    root = django_user_model.objects.create_superuser(username="root", password=OLD)
    target = personas["refund_officer"]
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    for actor in (admin, root):
        client = _client(actor)
        assert client.get(url).status_code == 403
        response = client.post(url, {"password1": "Ganz-neues-9x", "password2": "Ganz-neues-9x"})
        assert response.status_code == 403
        target.refresh_from_db()
        assert target.check_password(OLD)
        # The change form no longer offers the button; it points to the product instead.
        page = client.get(reverse("admin:accounts_user_change", args=[target.pk])).content.decode()
        assert 'href="../password/"' not in page
        assert reverse("accounts:user_detail", args=[target.pk]) in page and "后台管理不能设置密码" in page


def test_the_admin_add_form_creates_an_account_without_a_usable_password(personas, org):
    admin = personas["admin"]
    admin.is_staff = True
    admin.save()
    client = _client(admin)
    page = client.get(reverse("admin:accounts_user_add")).content.decode()
    assert 'name="password1"' not in page and "用户与岗位" in page
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newcomer",
            "full_name": "新同事",
            "branch": org["branch_a"].pk,
            "mobile": "",
            "usable_password": "true",
            "password1": "Known-to-admin-42",
            "password2": "Known-to-admin-42",
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [Group.objects.get(name=RoleCode.REFUND_OFFICER.value).pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newcomer")
    assert not user.has_usable_password() and not user.check_password("Known-to-admin-42")
    assert not user.is_superuser and not user.is_staff and not user.groups.exists()
    assert (user.full_name, user.branch) == ("新同事", org["branch_a"])
    # A second account whose name differs only in case is refused.
    response = client.post(reverse("admin:accounts_user_add"), {"username": "Newcomer", "full_name": "x"})
    assert response.status_code == 200 and User.objects.filter(username__iexact="newcomer").count() == 1


# --- the rule -------------------------------------------------------------------------------------------------


def test_who_falls_under_the_two_person_rule(personas, django_user_model):
    """The test of role grants, on the roles held; a superuser holds every power."""
    under = {name for name, user in personas.items() if reset_needs_second_person(user)}
    assert under == {"refund_officer", "supervisor", "admin"}
    assert reset_needs_second_person(django_user_model.objects.create_superuser(username="root", password=OLD))


# --- a reset that takes effect at once ------------------------------------------------------------------------


def test_reset_of_an_ordinary_user_is_confirmed_on_the_page_then_takes_effect_at_once(personas, caplog):
    admin, officer = personas["admin"], personas["officer_a"]
    Token.objects.create(user=officer)
    client = _client(admin)
    caplog.set_level(logging.DEBUG)

    assert _reset(client, officer, reason="").status_code == 400  # the reason is required
    preview = _reset(client, officer, confirmed=False)
    assert preview.status_code == 200
    assert "请确认：重置" in preview.content.decode() and "立即重置" in preview.content.decode()
    officer.refresh_from_db()
    assert officer.check_password(OLD) and not AuditEvent.objects.exists()

    response = _reset(client, officer)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = _shown_password(response)
    officer.refresh_from_db()
    assert officer.check_password(password) and not officer.check_password(OLD)
    assert officer.must_change_password
    assert not Token.objects.filter(user=officer).exists()
    assert not PasswordResetRequest.objects.exists()

    event = AuditEvent.objects.get(verb="user_password_reset")
    assert (event.actor, event.object_type, event.object_id) == (admin, "accounts.user", str(officer.pk))
    assert event.changes == {
        "must_change_password": [False, True],
        "api_tokens_revoked": 1,
        "reason": "本人忘记密码，电话核实",
    }
    _no_password_in_audit(password, officer.password)
    # Not kept anywhere after this answer: not in the session (messages), not in the logs, not on the user page.
    assert password not in json.dumps(dict(client.session.items()), default=str)
    assert not [r for r in caplog.records if password in r.getMessage()]
    page = client.get(reverse("accounts:user_detail", args=[officer.pk])).content.decode()
    assert password not in page and "正在使用临时密码" in page
    assert '<span class="tag tag-progress">重置密码</span>' in page  # the history, by its Chinese verb
    audit = client.get(reverse("accounts:audit_list")).content.decode()
    assert "须修改密码：</span>否 → 是" in audit and "作废的接口令牌：</span>— → 1" in audit


def test_the_temporary_password_works_once_then_forces_a_change(personas):
    admin, officer = personas["admin"], personas["officer_a"]
    reset = user_password_reset(actor=admin, user=officer, reason="忘记密码")
    temp = reset.temporary_password
    assert temp and temp not in repr(reset)  # a traceback or a log line showing the result does not show it

    client = Client()
    assert client.post(reverse("accounts:login"), {"username": "officer_a", "password": temp}).status_code == 302
    for url in (reverse("home"), reverse("taxpayers:list"), reverse("notify:inbox"), "/admin/"):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, CHANGE), url
    htmx = client.get(reverse("taxpayers:list"), HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == CHANGE
    api = client.get(reverse("api:taxpayer-list"))
    assert api.status_code == 403 and "修改临时密码" in api.json()["detail"]
    token = APIClient().post(reverse("api:token"), {"username": "officer_a", "password": temp})
    assert token.status_code == 400 and "修改临时密码" in token.json()["non_field_errors"][0]
    page = client.get(CHANGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "您的密码已由信息中心重置为临时密码" in html and "临时密码" in html

    # The form's errors in Chinese, beside the fields.
    wrong = client.post(CHANGE, {"old_password": "nope", "new_password1": "x", "new_password2": "x"})
    assert "当前密码不正确" in wrong.content.decode()
    short = client.post(CHANGE, {"old_password": temp, "new_password1": "Ab3", "new_password2": "Ab3"})
    assert "密码太短，至少需要 10 个字符。" in short.content.decode()
    officer.refresh_from_db()
    assert officer.must_change_password and officer.check_password(temp)

    new = "Dongcheng-2026-xyz"
    response = client.post(CHANGE, {"old_password": temp, "new_password1": new, "new_password2": new})
    assert (response.status_code, response["Location"]) == (302, reverse("home"))
    assert client.get(reverse("home")).status_code == 200  # still signed in, free to work
    officer.refresh_from_db()
    assert not officer.must_change_password and officer.check_password(new)
    event = AuditEvent.objects.get(verb="password_change")
    assert (event.actor, event.object_id) == (officer, str(officer.pk))
    assert event.changes == {"must_change_password": [True, False], "api_tokens_revoked": 0}
    _no_password_in_audit(temp, new, officer.password)
    # The temporary password is spent.
    again = Client().post(reverse("accounts:login"), {"username": "officer_a", "password": temp})
    assert again.status_code == 200 and "用户名或密码不正确" in again.content.decode()


# --- a reset under the two-person rule ------------------------------------------------------------------------


def test_reset_of_an_approver_needs_a_second_person_who_alone_sees_the_password(
    personas, django_capture_on_commit_callbacks
):
    admin, approver, supervisor = personas["admin"], personas["refund_officer"], personas["supervisor"]
    Token.objects.create(user=approver)
    client = _client(admin)
    preview = _reset(client, approver, confirmed=False)
    assert "须由另一位信息中心人员或局领导确认后才生效" in preview.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _reset(client, approver)
    assert response.status_code == 302  # no password for the requester
    approver.refresh_from_db()
    assert approver.check_password(OLD) and not approver.must_change_password
    assert Token.objects.filter(user=approver).exists()
    pending = PasswordResetRequest.objects.get()
    assert (pending.user, pending.requested_by, pending.status) == (approver, admin, "pending")
    assert AuditEvent.objects.filter(verb="password_reset_request", actor=admin).count() == 1
    assert not AuditEvent.objects.filter(verb="user_password_reset").exists()
    notice = InboxNotification.objects.get(user=supervisor)
    assert notice.title.startswith("密码重置待确认") and notice.link == REQUESTS
    assert not InboxNotification.objects.filter(user__in=[admin, approver]).exists()
    # Asking again while it waits: the page shows the request instead of the form; the service refuses.
    page = client.get(reverse("accounts:user_detail", args=[approver.pk])).content.decode()
    assert "申请重置：本人忘记密码" in page and 'id="reset-form"' not in page
    with pytest.raises(ApplicationError, match="已在等待确认"):
        user_password_reset(actor=admin, user=approver, reason="再次申请")

    confirmer = _client(supervisor)
    listing = confirmer.get(REQUESTS).content.decode()
    assert "密码重置申请" in listing and "确认重置" in listing
    with django_capture_on_commit_callbacks(execute=True):
        response = confirmer.post(reverse("accounts:password_reset_approve", args=[pending.pk]))
    assert response.status_code == 200
    password = _shown_password(response)
    approver.refresh_from_db()
    assert approver.check_password(password) and approver.must_change_password
    assert not Token.objects.filter(user=approver).exists()
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == ("approved", supervisor)
    assert AuditEvent.objects.get(verb="password_reset_approve").actor == supervisor
    reset_event = AuditEvent.objects.get(verb="user_password_reset")
    assert reset_event.actor == supervisor
    assert reset_event.summary.startswith("经supervisor确认，重置refund_officer的密码（admin申请：本人忘记密码")
    told = InboxNotification.objects.get(user=admin)
    assert told.title.startswith("已确认") and password not in told.title + told.body
    _no_password_in_audit(password, approver.password)
    # The requester never sees it: neither the list nor the user page shows it.
    assert password not in client.get(REQUESTS).content.decode()
    assert password not in client.get(reverse("accounts:user_detail", args=[approver.pk])).content.decode()


def test_a_superuser_reset_needs_a_second_person_too(personas, django_user_model):
    root = django_user_model.objects.create_superuser(username="root", password=OLD)
    reset = user_password_reset(actor=personas["admin"], user=root, reason="忘记密码")
    assert reset.pending and reset.request.status == "pending"
    root.refresh_from_db()
    assert root.check_password(OLD)


def test_the_requester_cannot_confirm_nor_can_the_user(personas, second_admin):
    admin = personas["admin"]
    pending = user_password_reset(actor=admin, user=personas["supervisor"], reason="忘记密码").request
    response = _client(admin).post(reverse("accounts:password_reset_approve", args=[pending.pk]))
    assert response.status_code == 400
    assert "这是您提出的申请，须由另一位信息中心人员或局领导确认。" in response.content.decode()
    assert "不能确认：这是您提出的申请" in _client(admin).get(REQUESTS).content.decode()
    # The user whose password it is may not confirm it either (and so see their own temporary password).
    of_second_admin = user_password_reset(actor=admin, user=second_admin, reason="忘记密码").request
    response = _client(second_admin).post(reverse("accounts:password_reset_approve", args=[of_second_admin.pk]))
    assert response.status_code == 400 and "这是重置您本人密码的申请" in response.content.decode()
    with pytest.raises(ApplicationError):
        password_reset_approve(actor=admin, reset_request=pending)
    assert set(PasswordResetRequest.objects.values_list("status", flat=True)) == {"pending"}
    assert not AuditEvent.objects.filter(verb__in=["password_reset_approve", "user_password_reset"]).exists()
    for user in (personas["supervisor"], second_admin):
        user.refresh_from_db()
        assert user.check_password(OLD) and not user.must_change_password
    # A second confirmation of a request already confirmed is refused with its state.
    supervisor = _client(personas["supervisor"])
    assert supervisor.post(reverse("accounts:password_reset_approve", args=[of_second_admin.pk])).status_code == 200
    again = _client(personas["supervisor"]).post(reverse("accounts:password_reset_approve", args=[of_second_admin.pk]))
    assert again.status_code == 400 and "已确认重置" in again.content.decode()


def test_the_database_holds_the_rule(personas):
    admin, supervisor = personas["admin"], personas["supervisor"]
    pending = PasswordResetRequest.objects.create(user=supervisor, reason="x", requested_by=admin)
    with pytest.raises(IntegrityError), transaction.atomic():  # one pending request per user
        PasswordResetRequest.objects.create(user=supervisor, reason="y", requested_by=admin)
    with pytest.raises(IntegrityError), transaction.atomic():  # nobody asks for their own
        PasswordResetRequest.objects.create(user=admin, reason="z", requested_by=admin)
    for confirmer in (admin, supervisor):  # confirmed by the requester, or by the user
        with pytest.raises(IntegrityError), transaction.atomic():
            PasswordResetRequest.objects.filter(pk=pending.pk).update(
                status="approved", decided_by=confirmer, decided_at=timezone.now()
            )


def test_reject_needs_a_reason_and_withdraw_is_the_requesters_both_audited(
    personas, second_admin, django_capture_on_commit_callbacks
):
    admin = personas["admin"]
    pending = user_password_reset(actor=admin, user=personas["refund_officer"], reason="忘记密码").request
    url = reverse("accounts:password_reset_reject", args=[pending.pk])
    response = _client(personas["supervisor"]).post(url, {f"p{pending.pk}-note": ""})
    assert response.status_code == 400 and "请填写驳回理由。" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(personas["supervisor"]).post(url, {f"p{pending.pk}-note": "未核实本人身份"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.decision_note) == ("rejected", "未核实本人身份")
    assert AuditEvent.objects.get(verb="password_reset_reject").actor == personas["supervisor"]
    assert InboxNotification.objects.get(user=admin).title.startswith("已驳回")

    again = user_password_reset(actor=admin, user=personas["refund_officer"], reason="再次申请").request
    withdraw = reverse("accounts:password_reset_withdraw", args=[again.pk])
    assert _client(second_admin).post(withdraw).status_code == 400  # only the requester withdraws
    assert _client(admin).post(withdraw).status_code == 302
    again.refresh_from_db()
    assert again.status == "withdrawn"
    assert AuditEvent.objects.get(verb="password_reset_withdraw").actor == admin
    personas["refund_officer"].refresh_from_db()
    assert personas["refund_officer"].check_password(OLD)


# --- nobody resets their own ----------------------------------------------------------------------------------


def test_nobody_resets_their_own_password_this_way(personas):
    admin = personas["admin"]
    page = _client(admin).get(reverse("accounts:user_detail", args=[admin.pk])).content.decode()
    assert "不能在此重置本人的密码" in page and 'id="reset-form"' not in page
    response = _reset(_client(admin), admin)
    assert response.status_code == 400 and "不能重置自己的密码" in response.content.decode()
    with pytest.raises(ApplicationError, match="不能重置自己的密码"):
        user_password_reset(actor=admin, user=admin, reason="忘记密码")
    admin.refresh_from_db()
    assert admin.check_password(OLD) and not admin.must_change_password
    assert not PasswordResetRequest.objects.exists() and not AuditEvent.objects.exists()


def test_only_the_information_centre_resets(personas):
    for name in ("supervisor", "refund_officer", "officer_a"):
        assert _reset(_client(personas[name]), personas["officer_b"]).status_code == 403, name
    personas["officer_b"].refresh_from_db()
    assert personas["officer_b"].check_password(OLD)


# --- 修改密码 --------------------------------------------------------------------------------------------------


def test_every_signed_in_user_has_the_change_page_linked_from_the_header(personas):
    for user in personas.values():
        client = _client(user)
        home = client.get(reverse("home")).content.decode()
        assert f'href="{CHANGE}"' in home and "修改密码" in home
        page = client.get(CHANGE)
        assert page.status_code == 200
        html = page.content.decode()
        for label in ("当前密码", "新密码", "再次输入新密码", "密码至少包含 10 个字符。"):
            assert label in html
        assert "Old password" not in html and "Password" not in html
    assert Client().get(CHANGE).status_code == 302  # anonymous: to the login page


def test_changing_ones_password_revokes_tokens_and_is_audited(personas):
    officer = personas["service_officer"]
    Token.objects.create(user=officer)
    other_session = _client(officer)
    client = _client(officer)
    new = "Xinmima-for-2027"
    response = client.post(CHANGE, {"old_password": OLD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert not Token.objects.filter(user=officer).exists()
    assert client.get(reverse("home")).status_code == 200
    assert other_session.get(reverse("home")).status_code == 302  # the other sessions end
    event = AuditEvent.objects.get(verb="password_change")
    assert event.changes == {"api_tokens_revoked": 1} and event.summary == "修改本人密码"
    officer.refresh_from_db()
    _no_password_in_audit(new, OLD, officer.password)
    with pytest.raises(ValidationError):  # the service holds the validators too
        user_password_change(actor=officer, new_password="12345")
