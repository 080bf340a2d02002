"""The bureau's roles (岗位) and what each may do.

A role is a Django group whose name is the role's code; the data migration
``accounts.0002_roles`` creates them with these permissions. Branch scoping is
not a permission: it is decided in ``accounts.scoping`` from ``sees_all_branches``.
"""

from dataclasses import dataclass
from enum import StrEnum


class RoleCode(StrEnum):
    REFUND_OFFICER = "refund_officer"
    BRANCH_OFFICER = "branch_officer"
    SERVICE_OFFICER = "service_officer"
    RISK_OFFICER = "risk_officer"
    CREDIT_OFFICER = "credit_officer"
    LEGAL_OFFICER = "legal_officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Role:
    code: RoleCode
    label: str
    sees_all_branches: bool
    permissions: tuple[str, ...]


_TAXPAYER_READ = (
    "taxpayers.view_taxpayer",
    "taxpayers.view_vatreturn",
    "taxpayers.view_compliancerecord",
)
_CONTACTS = ("taxpayers.view_taxpayer_contacts",)
_IMPORTS = ("taxpayers.view_importjob", "taxpayers.add_importjob")
_AUDIT = ("accounts.view_auditevent",)
# 消息通知: the SMS outbox (notify app; granted by accounts.0005_notify_permissions, and
# accounts.0006_notify_batch_permissions for creating batches in 新建短信批次).
_SMS_VIEW = ("notify.view_smsmessage", "notify.view_smsbatch")
_SMS_SEND = (*_SMS_VIEW, "notify.send_smsmessage", "notify.export_smsmessage", "notify.add_smsbatch")
_SMS_ADMIN = (*_SMS_SEND, "notify.view_messagetemplate", "notify.add_messagetemplate",
              "notify.change_messagetemplate", "notify.view_optout", "notify.add_optout")
# 留抵退税 screening runs and their results (refund app; granted by refund.0003_screening_permissions).
_SCREENING_VIEW = ("refund.view_screeningrun", "refund.view_screeningresult")
_SCREENING_RUN = (*_SCREENING_VIEW, "refund.run_screening", "refund.export_screening")
# 候选名单 (refund app; granted by refund.0005_candidate_permissions).
_CANDIDATES_VIEW = ("refund.view_candidatelist", "refund.view_candidateitem")
_CANDIDATES_EXPORT = (*_CANDIDATES_VIEW, "refund.export_candidatelist")
_CANDIDATES_WORK = ("refund.work_candidateitem",)  # 申请前调查, 一对一辅导, 放弃申请
_CANDIDATES_OWN = ("refund.build_candidatelist", "refund.import_upperlist", "refund.view_upperlistimport")
_CANDIDATES_REMIND = ("refund.remind_candidates",)
_CANDIDATES_SETTINGS = ("refund.view_candidatesettings", "refund.change_candidatesettings")
# 信用修复提示 (refund.0011_repair_notice_permissions): the refund officer lists, the service section sends.
_REPAIR_NOTICES_VIEW = ("refund.view_repairnotice", "refund.export_repairnotice")
_REPAIR_NOTICES_LIST = ("refund.list_repairnotices",)
_REPAIR_NOTICES_SEND = ("refund.send_repairnotices",)
# 留抵退税申请 and coaching (refund app) and the refund ledger (ledger app); granted by ledger.0003_permissions.
_APPLICATIONS_VIEW = ("refund.view_refundapplication", "refund.view_coachingrecord")
_APPLICATIONS_WORK = (*_APPLICATIONS_VIEW, "refund.review_refundapplication", "refund.add_coachingrecord")
_APPLICATIONS_OWN = ("refund.add_refundapplication", "refund.approve_refundapplication",
                     "refund.export_refundapplication", "refund.view_signoffthreshold")
# 局领导签批 of large refunds, and the bureau's threshold for it (refund.0012_sign_off).
_SIGN_OFF = ("refund.sign_off_refundapplication", "refund.view_signoffthreshold", "refund.add_signoffthreshold")
_LEDGER_VIEW = ("ledger.view_ledgerentry", "ledger.view_treasurypayment", "ledger.view_ledgerrun")
# The risk review's outcomes through the owning apps (refund.0014_stop_adjust, ledger.0008_clawbacks): 终止退税 and
# 调整退税额 of an application, 追缴 of a paid refund; the 追缴 list is read by 局领导 and 税政一股 too.
_RISK_OUTCOMES = ("refund.stop_refundapplication", "refund.adjust_refundapplication", "ledger.clawback_ledgerentry")
_CLAWBACKS_VIEW = ("ledger.view_clawbacks", "ledger.export_clawbacks")
_LEDGER_EXPORT = (*_LEDGER_VIEW, "ledger.export_ledgerentry")
_LEDGER_KEEP = ("ledger.add_treasurypayment", "ledger.register_ledger")
# 纳税信用 data (credit app; granted by credit.0003_credit_permissions): ratings and dishonesty events, viewed
# within the user's branches, and the credit files (评价结果、失信行为、专精特新认定) the credit officer imports.
_CREDIT_VIEW = ("credit.view_creditrating", "credit.view_dishonestyevent")
_CREDIT_IMPORT = ("credit.view_creditimport", "credit.add_creditimport")
# 信用预警 (credit.0004_warnings): the predictions' lists and the contacts; the credit officer exports and contacts.
_CREDIT_WARNINGS_VIEW = ("credit.view_creditprediction", "credit.view_creditcontact")
_CREDIT_WARNINGS_ACT = (*_CREDIT_WARNINGS_VIEW, "credit.export_creditprediction", "credit.add_creditcontact")
# 纳税信用修复、复核、复评 cases (granted by credit.0005_repair_cases): the credit officer registers, reviews and
# decides them; 局领导 and the branches (their own taxpayers') view them.
_CREDIT_CASES_VIEW = ("credit.view_creditcase",)
_CREDIT_CASES_WORK = (*_CREDIT_CASES_VIEW, "credit.add_creditcase", "credit.handle_creditcase")
# 银税互动 (granted by credit.0006_banktax): the service section and the credit officer tell A/B/M taxpayers about
# credit loans and record the loans obtained; 局领导 and the branches (their own taxpayers) view.
_BANKTAX_VIEW = ("credit.view_banktaxoutreach", "credit.view_banktaxloan")
_BANKTAX_ACT = (*_BANKTAX_VIEW, "credit.add_banktaxoutreach", "credit.add_banktaxloan", "credit.export_banktaxoutreach")
# 风险管理 (risk app; granted by risk.0002_risk_permissions): the indicator library, its parameters and grade rules
# (each edit a new version, never overwritten: hence add, not change), scans with their hits and grades.
_RISK_VIEW = ("risk.view_indicatorparameterversion", "risk.view_graderule", "risk.view_scan", "risk.view_riskhit",
              "risk.view_scanresult")
_RISK_WORK = (*_RISK_VIEW, "risk.add_indicatorparameterversion", "risk.add_graderule", "risk.add_scan")
# 事后复核 (risk.0004_sampling_permissions): 风险管理股 sets the sample's parameters and draws a month; 局领导 views
# and exports the samples.
_SAMPLE_VIEW = ("risk.view_monthlysample", "risk.view_sampledrefund", "risk.view_sampleparameterversion",
                "risk.export_monthlysample")
_SAMPLE_WORK = (*_SAMPLE_VIEW, "risk.add_sampleparameterversion", "risk.add_monthlysample")
# 集体会商 (granted by risk.0006_consultation_permissions): 风险管理股 opens and decides (主持); the participants —
# 税政一股, 法制岗, 风险管理股 and the taxpayer's branch (its own applications') — give their opinions; 局领导 views.
_CONSULTATIONS_VIEW = ("risk.view_consultation",)
_CONSULTATIONS_JOIN = (*_CONSULTATIONS_VIEW, "risk.opine_consultation")
_CONSULTATIONS_HOST = (*_CONSULTATIONS_JOIN, "risk.add_consultation", "risk.decide_consultation",
                       "risk.export_consultation")
# 风险任务 (granted by risk.0008_risk_task_permissions): 风险管理股 creates, analyses, assigns, decides and closes the
# tasks, imports the higher bureau's and exports; the branches view and respond to their own branch's; 局领导 views.
_RISK_TASKS_VIEW = ("risk.view_risktask", "risk.view_inspectiontransfer")
_RISK_TASKS_RESPOND = (*_RISK_TASKS_VIEW, "risk.respond_risktask")
_RISK_TASKS_ACT = (*_RISK_TASKS_RESPOND, "risk.act_risktask", "risk.import_risktask", "risk.export_risktask")
# 风险扫描的疑点 (granted by risk.0011_scan_pages): 风险管理股 and 局领导 export them; a branch sees the scans and
# its own taxpayers' hits.
_RISK_HITS_EXPORT = ("risk.export_riskhit",)
_RISK_HITS_BRANCH = ("risk.view_scan", "risk.view_riskhit")
# 用户与岗位 (accounts; granted by accounts.0008_role_permissions): the information centre changes users' roles,
# branch and status in the product; granting a role of the two-person rule is confirmed by another admin or a
# supervisor (``decide_rolegrantrequest``). The same two-person rule holds for password resets of those who hold
# such roles (accounts.0010_password_reset_permissions): the same people ask and confirm.
_ROLES_CONFIRM = (
    "accounts.view_rolegrantrequest",
    "accounts.decide_rolegrantrequest",
    "accounts.view_passwordresetrequest",
)
_ROLES_MANAGE = ("accounts.manage_roles", *_ROLES_CONFIRM)
# 信息中心 manages users, the organisation and the schedules in the admin site.
_SYSTEM = (
    "accounts.view_user",
    "accounts.add_user",
    "accounts.change_user",
    "accounts.view_branch",
    "accounts.add_branch",
    "accounts.change_branch",
    "auth.view_group",
    "django_celery_beat.view_periodictask",
    "django_celery_beat.change_periodictask",
    "django_celery_beat.view_crontabschedule",
    "django_celery_beat.add_crontabschedule",
    "django_celery_beat.change_crontabschedule",
    # 申报期限: the published table for each year and regional overrides.
    "taxpayers.view_filingdeadline",
    "taxpayers.add_filingdeadline",
    "taxpayers.change_filingdeadline",
)

ROLES: dict[RoleCode, Role] = {
    role.code: role
    for role in (
        Role(
            RoleCode.REFUND_OFFICER,
            "税政一股（留抵退税）",
            True,
            _TAXPAYER_READ + _CONTACTS + _IMPORTS + _SMS_SEND + _SCREENING_RUN
            + _CANDIDATES_EXPORT + _CANDIDATES_WORK + _CANDIDATES_OWN
            + _APPLICATIONS_WORK + _APPLICATIONS_OWN + _LEDGER_EXPORT + _LEDGER_KEEP
            + _REPAIR_NOTICES_VIEW + _REPAIR_NOTICES_LIST + _REPAIR_NOTICES_SEND + _CLAWBACKS_VIEW
            + _CONSULTATIONS_JOIN,
        ),
        Role(RoleCode.BRANCH_OFFICER, "税源管理分局", False,
             _TAXPAYER_READ + _CONTACTS + _SCREENING_VIEW + _CANDIDATES_EXPORT + _CANDIDATES_WORK
             + _APPLICATIONS_WORK + ("ledger.view_ledgerentry",)  # their branch's ledger only
             + _CREDIT_VIEW + _CREDIT_CASES_VIEW + _BANKTAX_VIEW + _CONSULTATIONS_JOIN + _RISK_TASKS_RESPOND
             + _RISK_HITS_BRANCH),
        Role(RoleCode.SERVICE_OFFICER, "纳税服务股", True,
             _TAXPAYER_READ + _CONTACTS + _SMS_SEND + _CANDIDATES_EXPORT + _CANDIDATES_REMIND
             + _APPLICATIONS_VIEW + _LEDGER_VIEW + _REPAIR_NOTICES_VIEW + _REPAIR_NOTICES_SEND + _BANKTAX_ACT),
        Role(
            RoleCode.RISK_OFFICER, "风险管理股", True,
            (*_TAXPAYER_READ, "taxpayers.view_importjob", *_SCREENING_VIEW, *_CANDIDATES_VIEW, *_APPLICATIONS_VIEW,
             *_LEDGER_VIEW, *_RISK_WORK, *_RISK_OUTCOMES, *_CLAWBACKS_VIEW, *_SAMPLE_WORK,
             *_CONSULTATIONS_HOST, *_RISK_TASKS_ACT, *_RISK_HITS_EXPORT),
        ),
        # 法制岗: the legal section's reviewer, whose opinion every 集体会商 decision needs; reads what the risk
        # section reads, to weigh the evidence.
        Role(RoleCode.LEGAL_OFFICER, "法制岗", True,
             _TAXPAYER_READ + _SCREENING_VIEW + _CANDIDATES_VIEW + _APPLICATIONS_VIEW + _LEDGER_VIEW + _RISK_VIEW
             + _CONSULTATIONS_JOIN + ("risk.export_consultation",)),
        Role(RoleCode.CREDIT_OFFICER, "纳税信用岗", True,
             _TAXPAYER_READ + _CREDIT_VIEW + _CREDIT_IMPORT + _CREDIT_WARNINGS_ACT + _CREDIT_CASES_WORK
             + _REPAIR_NOTICES_VIEW + _BANKTAX_ACT),
        Role(
            RoleCode.SUPERVISOR,
            "局领导",
            True,
            _TAXPAYER_READ + _AUDIT + ("taxpayers.view_importjob",) + _SMS_VIEW + _SCREENING_VIEW
            + ("refund.export_screening",) + _CANDIDATES_EXPORT
            + _APPLICATIONS_VIEW + ("refund.export_refundapplication",) + _LEDGER_EXPORT + _ROLES_CONFIRM
            + _CREDIT_VIEW + ("credit.view_creditimport",) + _CREDIT_WARNINGS_VIEW + _CREDIT_CASES_VIEW
            + _REPAIR_NOTICES_VIEW + _BANKTAX_VIEW + _RISK_VIEW + _SAMPLE_VIEW + _SIGN_OFF + _CLAWBACKS_VIEW
            + _CONSULTATIONS_VIEW + ("risk.export_consultation",) + _RISK_TASKS_VIEW + ("risk.export_risktask",)
            + _RISK_HITS_EXPORT,
        ),
        Role(
            RoleCode.ADMIN,
            "信息中心（系统管理）",
            True,
            _TAXPAYER_READ + _CONTACTS + _IMPORTS + _AUDIT + _SYSTEM + _ROLES_MANAGE + _SMS_ADMIN + _SCREENING_RUN
            + _CANDIDATES_EXPORT + _CANDIDATES_SETTINGS + _APPLICATIONS_VIEW + _LEDGER_VIEW,
        ),
    )
}


# The two-person rule (双人确认): granting a role that carries these powers takes effect only when a second person
# confirms it (accounts.services.user_roles_change).
APPROVAL_POWERS = ("refund.approve_refundapplication", "ledger.add_treasurypayment")
CONFIRM_POWER = "accounts.decide_rolegrantrequest"


def needs_second_person(code: str) -> bool:
    """Whether granting role ``code`` must be confirmed by a second person.

    It must when the role approves refunds or records treasury payments (``APPROVAL_POWERS``), is the
    supervisor's (局领导: final approval and the dashboards of every branch), or may itself confirm such grants
    (``CONFIRM_POWER``: 信息中心 and 局领导) — otherwise one administrator could give a second account of their
    own the confirming power at once and confirm their own request with it.
    """
    role = ROLES.get(code)  # type: ignore[call-overload]
    if role is None:
        return False
    powers = set(role.permissions)
    return code == RoleCode.SUPERVISOR or bool(powers.intersection(APPROVAL_POWERS)) or CONFIRM_POWER in powers


def role_label(code: str) -> str:
    role = ROLES.get(code)  # type: ignore[call-overload]
    return role.label if role else code


def sync_role_groups(*, group_model, permission_model) -> None:
    """Create each role's group with the permissions that exist so far; never removes a grant.

    Each app's role-grant migration calls it after creating its own permissions, so a
    migration written today need not know the apps that come later. Tests call it after
    a database flush.
    """
    for role in ROLES.values():
        group, _ = group_model.objects.get_or_create(name=role.code.value)
        for dotted in role.permissions:
            app_label, codename = dotted.split(".")
            permission = permission_model.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)
