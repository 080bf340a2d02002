"""系统管理 → 用户与岗位: the list, one user's roles, the two-person rule on grants of approval powers, and the raw
admin site that can no longer grant powers."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, RoleGrantRequest, User
from accounts.navigation import menu_for
from accounts.roles import ROLES, RoleCode, needs_second_person
from accounts.services import role_grant_approve, user_roles_change
from notify.models import InboxNotification

pytestmark = pytest.mark.django_db

LIST = reverse("accounts:user_list")
REQUESTS = reverse("accounts:role_requests")
REFUND = ROLES[RoleCode.REFUND_OFFICER].label  # 税政一股（留抵退税）


def _detail(user) -> str:
    return reverse("accounts:user_detail", args=[user.pk])


def _roles(user) -> set[str]:
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def _post_roles(client, user, roles, *, branch=None, active=True, reason="", confirmed=True):
    data = {"roles": [str(r) for r in roles], "branch": branch.pk if branch else "", "reason": reason}
    if active:
        data["is_active"] = "on"
    if confirmed:
        data["confirmed"] = "1"
    return client.post(_detail(user), data)


@pytest.fixture
def second_admin(personas, org):
    user = User.objects.create_user(username="admin2", password="test-pass-123", full_name="第二管理员")
    user.branch = org["bureau"]
    user.save()
    user.groups.add(Group.objects.get(name=RoleCode.ADMIN.value))
    return user


# --- the rule itself -------------------------------------------------------------------------------------------


def test_the_roles_of_the_two_person_rule():
    """Approval or payment powers, the supervisor, and the roles that may confirm grants (else one admin could
    give a second account of their own the confirming power at once)."""
    assert {code for code in RoleCode if needs_second_person(code)} == {
        RoleCode.REFUND_OFFICER,
        RoleCode.SUPERVISOR,
        RoleCode.ADMIN,
    }
    for code in (RoleCode.BRANCH_OFFICER, RoleCode.SERVICE_OFFICER, RoleCode.RISK_OFFICER, RoleCode.CREDIT_OFFICER):
        powers = set(ROLES[code].permissions)
        assert not powers & {"refund.approve_refundapplication", "ledger.add_treasurypayment"}


# --- who may open the pages ----------------------------------------------------------------------------------


def test_only_the_admin_role_and_superusers_open_the_role_pages(client_for, personas, django_user_model):
    for username in personas:
        expected = 200 if username == "admin" else 403
        assert client_for(username).get(LIST).status_code == expected, username
        assert client_for(username).get(_detail(personas["officer_a"])).status_code == expected, username
        expected = 200 if username in ("admin", "supervisor") else 403
        assert client_for(username).get(REQUESTS).status_code == expected, username
    root = django_user_model.objects.create_superuser(username="root", password="test-pass-123")
    from django.test import Client

    client = Client()
    client.force_login(root)
    assert client.get(LIST).status_code == 200
    assert client.get(_detail(personas["officer_a"])).status_code == 200


def test_the_menu_shows_the_pages_under_system_management(personas):
    def system(username):
        return [item["label"] for item in menu_for(personas[username]) if item["section"] == "系统管理"]

    assert system("admin")[:2] == ["用户与岗位", "岗位授权确认"]
    assert "岗位授权确认" in system("supervisor") and "用户与岗位" not in system("supervisor")
    assert system("refund_officer") == []


# --- the list --------------------------------------------------------------------------------------------------


def test_the_list_shows_users_with_branch_roles_and_status(client_for, personas):
    personas["credit_officer"].is_active = False
    personas["credit_officer"].save()
    response = client_for("admin").get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    rows = {u.username: u for u in response.context["page_obj"]}
    assert set(rows) == set(personas)
    assert [t["label"] for t in rows["refund_officer"].role_tags] == [REFUND]
    assert rows["officer_a"].branch.name == "城东税务分局"
    for text in ("税政一股（留抵退税）", "税源管理分局", "局领导", "城东税务分局", "停用", "启用", "双人确认"):
        assert text in html, text
    # Roles as tags by their Chinese names; the codes stay in the filter's option values.
    tags = re.findall(r'class="tag tag-\w+"[^>]*>([^<]+)<', html)
    assert "税政一股（留抵退税）" in tags and "信息中心（系统管理）" in tags
    assert not [tag for tag in tags if re.search(r"[a-z_]{3,}", tag)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"role": "branch_officer"}, {"officer_a", "officer_b"}),
        ({"role": "refund_officer"}, {"refund_officer"}),
        ({"q": "officer_"}, {"officer_a", "officer_b"}),
        ({"active": "no"}, {"risk_officer"}),
        ({"role": "none"}, {"nobody"}),
    ],
)
def test_the_list_filters_by_role_branch_status_and_name(client_for, personas, query, expected):
    personas["risk_officer"].is_active = False
    personas["risk_officer"].save()
    User.objects.create_user(username="nobody", password="test-pass-123")
    response = client_for("admin").get(LIST, query)
    assert {u.username for u in response.context["page_obj"]} == expected


def test_the_list_filters_by_branch_and_sorts_by_its_columns(client_for, personas, org):
    client = client_for("admin")
    response = client.get(LIST, {"branch": org["branch_b"].pk})
    assert [u.username for u in response.context["page_obj"]] == ["officer_b"]
    names = [u.username for u in client.get(LIST, {"sort": "-username"}).context["page_obj"]]
    assert names == sorted(personas, reverse=True)
    names = [u.username for u in client.get(LIST, {"sort": "username"}).context["page_obj"]]
    assert names == sorted(personas)
    assert client.get(LIST, {"sort": "password"}).status_code == 200  # not a column: the default order
    assert "aria-sort" in client.get(LIST, {"sort": "name"}).content.decode()


def test_the_list_page_costs_a_fixed_number_of_queries(client_for, personas, org, django_assert_max_num_queries):
    refund = Group.objects.get(name=RoleCode.REFUND_OFFICER.value)
    for k in range(30):
        user = User.objects.create_user(username=f"u{k}", password="x", full_name=f"用户{k}", branch=org["branch_a"])
        user.groups.add(refund)
        RoleGrantRequest.objects.create(user=user, role="supervisor", reason="测试", requested_by=personas["admin"])
    client = client_for("admin")
    with django_assert_max_num_queries(13):
        response = client.get(LIST)
    assert len(response.context["page_obj"]) == 38
    assert response.content.decode().count("待确认：局领导") == 30


# --- changes that apply at once ---------------------------------------------------------------------------------


def test_a_grant_outside_the_rule_is_confirmed_on_the_page_then_applies_at_once_audited(client_for, personas):
    officer = personas["officer_a"]
    client = client_for("admin")
    roles = [RoleCode.BRANCH_OFFICER, RoleCode.CREDIT_OFFICER]
    preview = _post_roles(client, officer, roles, branch=officer.branch, confirmed=False)
    assert preview.status_code == 200
    assert "立即授予岗位：「纳税信用岗」。" in preview.content.decode()
    assert _roles(officer) == {"branch_officer"}  # nothing until confirmed
    assert not AuditEvent.objects.filter(verb="user_roles_change").exists()

    response = _post_roles(client, officer, roles, branch=officer.branch)
    assert response.status_code == 302
    assert _roles(officer) == {"branch_officer", "credit_officer"}
    event = AuditEvent.objects.get(verb="user_roles_change", object_id=str(officer.pk))
    assert event.actor == personas["admin"]
    assert event.object_type == "accounts.user"
    assert event.changes == {"groups": [["税源管理分局"], ["税源管理分局", "纳税信用岗"]]}
    html = client_for("admin").get(reverse("accounts:audit_list")).content.decode()
    assert "修改用户岗位" in html and "岗位：</span>税源管理分局 → 税源管理分局、纳税信用岗" in html
    assert not RoleGrantRequest.objects.exists()


def test_removals_unit_and_status_apply_at_once(client_for, personas, org):
    refund_officer = personas["refund_officer"]
    response = _post_roles(client_for("admin"), refund_officer, [], branch=org["branch_b"], active=False)
    assert response.status_code == 302
    refund_officer.refresh_from_db()
    assert _roles(refund_officer) == set()
    assert refund_officer.branch == org["branch_b"] and not refund_officer.is_active
    event = AuditEvent.objects.get(verb="user_roles_change")
    assert event.changes == {
        "groups": [[REFUND], []],
        "branch": ["税政一股", "城西税务分局"],
        "is_active": [True, False],
    }
    # Removing the supervisor's role needs no second person either.
    assert _post_roles(client_for("admin"), personas["supervisor"], []).status_code == 302
    assert _roles(personas["supervisor"]) == set()


def test_an_admin_cannot_deactivate_itself(client_for, personas):
    admin = personas["admin"]
    response = _post_roles(client_for("admin"), admin, [RoleCode.ADMIN], branch=admin.branch, active=False)
    assert response.status_code == 400
    assert "不能停用自己的账户" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


# --- the two-person rule ------------------------------------------------------------------------------------


def test_granting_approval_powers_creates_a_request_and_changes_nothing(
    client_for, personas, django_capture_on_commit_callbacks
):
    client = client_for("admin")
    admin, service = personas["admin"], personas["service_officer"]
    wanted = [RoleCode.SERVICE_OFFICER, RoleCode.REFUND_OFFICER]
    # The reason is required, beside its field.
    response = _post_roles(client, service, wanted, branch=service.branch, confirmed=False)
    assert response.status_code == 400
    assert "请填写申请理由" in response.content.decode()
    preview = _post_roles(client, service, wanted, branch=service.branch, reason="接替退税审批", confirmed=False)
    assert "须由另一位信息中心人员或局领导确认后才生效" in preview.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        for user, roles in ((service, wanted), (admin, [RoleCode.ADMIN, RoleCode.REFUND_OFFICER])):
            response = _post_roles(client, user, roles, branch=user.branch, reason="接替退税审批")
            assert response.status_code == 302
    assert _roles(service) == {"service_officer"} and _roles(admin) == {"admin"}
    requests = RoleGrantRequest.objects.order_by("pk")
    assert [(r.user, r.role, r.status, r.requested_by) for r in requests] == [
        (service, "refund_officer", "pending", admin),
        (admin, "refund_officer", "pending", admin),
    ]
    assert AuditEvent.objects.filter(verb="role_grant_request").count() == 2
    assert not AuditEvent.objects.filter(verb="user_roles_change").exists()
    # Those who may confirm are told; the requester is not told of their own request.
    supervisor_notes = InboxNotification.objects.filter(user=personas["supervisor"])
    assert supervisor_notes.count() == 2 and "岗位授权待确认" in supervisor_notes.first().title
    assert not InboxNotification.objects.filter(user=admin).exists()
    # Asking again while the request waits makes no second one.
    response = _post_roles(client, service, wanted, branch=service.branch, reason="再次申请")
    assert RoleGrantRequest.objects.filter(user=service).count() == 1


def _request(actor, user, code=RoleCode.REFUND_OFFICER):
    user_roles_change(
        actor=actor,
        user=user,
        roles=[*(c.value for c in user.role_codes), code.value],
        branch=user.branch,
        is_active=True,
        reason="岗位调整",
    )
    return RoleGrantRequest.objects.get(user=user, role=code.value, status="pending")


def test_the_requester_cannot_confirm_nor_can_the_grantee(client_for, personas, second_admin):
    grant = _request(personas["admin"], personas["service_officer"])
    response = client_for("admin").post(reverse("accounts:role_request_approve", args=[grant.pk]))
    assert response.status_code == 400
    assert "这是您提出的申请，须由另一位信息中心人员或局领导确认。" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == "pending" and _roles(personas["service_officer"]) == {"service_officer"}

    to_second_admin = _request(personas["admin"], second_admin)
    from django.test import Client

    client = Client()
    client.force_login(second_admin)
    response = client.post(reverse("accounts:role_request_approve", args=[to_second_admin.pk]))
    assert response.status_code == 400
    assert "这是授予您本人的岗位" in response.content.decode()
    assert "refund_officer" not in _roles(second_admin)
    # The page says why instead of offering the button.
    page = client_for("admin").get(REQUESTS).content.decode()
    assert "不能确认：这是您提出的申请" in page


def test_a_second_admin_or_a_supervisor_confirms_and_the_role_is_granted_audited(
    client_for, personas, second_admin, django_capture_on_commit_callbacks
):
    admin, service = personas["admin"], personas["service_officer"]
    to_service = _request(admin, service)
    to_self = _request(admin, admin)
    client = client_for(None)
    client.force_login(second_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:role_request_approve", args=[to_service.pk]))
        assert response.status_code == 302
        response = client_for("supervisor").post(reverse("accounts:role_request_approve", args=[to_self.pk]))
        assert response.status_code == 302
    assert _roles(service) == {"service_officer", "refund_officer"}
    assert _roles(admin) == {"admin", "refund_officer"}
    to_service.refresh_from_db()
    assert (to_service.status, to_service.decided_by) == ("approved", second_admin)
    approvals = AuditEvent.objects.filter(verb="role_grant_approve").order_by("pk")
    assert [e.actor for e in approvals] == [second_admin, personas["supervisor"]]
    change = AuditEvent.objects.get(verb="user_roles_change", object_id=str(service.pk))
    assert change.actor == second_admin
    assert change.changes == {"groups": [["纳税服务股"], [REFUND, "纳税服务股"]]}
    notes = InboxNotification.objects.filter(user=admin).order_by("pk")
    assert [n.title.split("：")[0] for n in notes] == ["已确认", "已确认"]
    # Confirming twice is refused with the state it is in.
    response = client.post(reverse("accounts:role_request_approve", args=[to_service.pk]))
    assert response.status_code == 400 and "已确认授予" in response.content.decode()


def test_granting_the_admin_role_sets_staff_on_confirmation(personas, second_admin):
    officer = personas["officer_a"]
    grant = _request(personas["admin"], officer, RoleCode.ADMIN)
    officer.refresh_from_db()
    assert not officer.is_staff
    role_grant_approve(actor=second_admin, grant_request=grant)
    officer.refresh_from_db()
    assert officer.is_staff and _roles(officer) == {"branch_officer", "admin"}
    user_roles_change(actor=personas["admin"], user=officer, roles=["branch_officer"], branch=officer.branch,
                      is_active=True)  # fmt: skip
    officer.refresh_from_db()
    assert not officer.is_staff


def test_reject_needs_a_reason_and_tells_the_requester(client_for, personas, django_capture_on_commit_callbacks):
    grant = _request(personas["admin"], personas["service_officer"])
    url = reverse("accounts:role_request_reject", args=[grant.pk])
    response = client_for("supervisor").post(url, {f"r{grant.pk}-note": ""})
    assert response.status_code == 400 and "请填写驳回理由。" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("supervisor").post(url, {f"r{grant.pk}-note": "未经股室负责人同意"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert (grant.status, grant.decision_note) == ("rejected", "未经股室负责人同意")
    assert _roles(personas["service_officer"]) == {"service_officer"}
    assert AuditEvent.objects.filter(verb="role_grant_reject", actor=personas["supervisor"]).exists()
    note = InboxNotification.objects.get(user=personas["admin"])
    assert note.title.startswith("已驳回") and "未经股室负责人同意" in note.title


def test_the_requester_may_withdraw(client_for, personas):
    grant = _request(personas["admin"], personas["service_officer"])
    response = client_for("admin").post(reverse("accounts:role_request_withdraw", args=[grant.pk]))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == "withdrawn"
    assert AuditEvent.objects.filter(verb="role_grant_withdraw").exists()


def test_the_database_holds_the_rule(personas):
    admin, service = personas["admin"], personas["service_officer"]
    grant = RoleGrantRequest.objects.create(user=service, role="refund_officer", reason="x", requested_by=admin)
    with pytest.raises(IntegrityError), transaction.atomic():  # one pending request per user and role
        RoleGrantRequest.objects.create(user=service, role="refund_officer", reason="y", requested_by=admin)
    with pytest.raises(IntegrityError), transaction.atomic():  # confirmed by the one who asked
        RoleGrantRequest.objects.filter(pk=grant.pk).update(
            status="approved", decided_by=admin, decided_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # confirmed by the one who receives it
        RoleGrantRequest.objects.filter(pk=grant.pk).update(
            status="approved", decided_by=service, decided_at=timezone.now()
        )


def test_superuser_is_shown_read_only_and_never_granted(client_for, personas):
    html = client_for("admin").get(_detail(personas["officer_a"])).content.decode()
    assert "超级管理员" in html and "本系统不授予" in html
    assert 'name="is_superuser"' not in html
    response = client_for("admin").post(
        _detail(personas["officer_a"]),
        {"roles": ["branch_officer"], "branch": personas["officer_a"].branch_id, "is_active": "on",
         "is_superuser": "on", "confirmed": "1"},
    )  # fmt: skip
    personas["officer_a"].refresh_from_db()
    assert response.status_code == 302 and not personas["officer_a"].is_superuser


# --- the raw admin site ------------------------------------------------------------------------------------------


def test_the_admin_site_can_no_longer_grant_powers(client_for, personas):
    admin = personas["admin"]
    admin.is_staff = True
    admin.save()
    client = client_for("admin")
    refund = Group.objects.get(name=RoleCode.REFUND_OFFICER.value)
    for target in (admin, personas["officer_a"]):
        url = reverse("admin:accounts_user_change", args=[target.pk])
        page = client.get(url)
        assert page.status_code == 200
        before = _roles(target)
        joined = timezone.localtime(target.date_joined)
        response = client.post(
            url,
            {
                "username": target.username,
                "first_name": "",
                "last_name": "",
                "email": "",
                "is_active": "on",
                "is_staff": "on",
                "is_superuser": "on",
                "groups": [refund.pk],
                "user_permissions": [],
                "date_joined_0": joined.strftime("%Y-%m-%d"),
                "date_joined_1": joined.strftime("%H:%M:%S"),
                "full_name": "改过的名字",
                "branch": target.branch_id,
                "mobile": "",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        target.refresh_from_db()
        assert target.full_name == "改过的名字"  # the other fields still work
        assert not target.is_superuser
        assert _roles(target) == before
        assert target.is_staff == (target == admin)
    # The roles' permissions cannot be edited there either.
    group_url = reverse("admin:auth_group_change", args=[refund.pk])
    assert client.get(group_url).status_code == 200  # shown
    response = client.post(group_url, {"name": "refund_officer", "permissions": []})
    assert response.status_code == 403
    assert refund.permissions.count() > 0
    assert client.get(reverse("admin:auth_group_add")).status_code == 403
