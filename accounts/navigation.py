"""The left menu: business areas in the bureau's words, each shown only to users who may use it."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class MenuItem:
    label: str
    icon: str
    url_name: str
    permission: str | None = None  # None: every signed-in user with a role
    section: str = ""
    staff_only: bool = False  # the information centre's technical pages


MENU = (
    MenuItem("工作台", "speedometer2", "home"),
    MenuItem("纳税人", "building", "taxpayers:list", "taxpayers.view_taxpayer", "纳税人"),
    MenuItem("数据导入", "cloud-upload", "taxpayers:import_list", "taxpayers.view_importjob", "纳税人"),
    MenuItem("信用评价结果", "award", "credit:ratings", "credit.view_creditrating", "纳税信用"),
    MenuItem("失信行为", "exclamation-triangle", "credit:events", "credit.view_dishonestyevent", "纳税信用"),
    MenuItem("信用预警", "bell-fill", "credit:warnings", "credit.view_creditprediction", "纳税信用"),
    MenuItem("信用数据导入", "cloud-arrow-up", "credit:imports", "credit.view_creditimport", "纳税信用"),
    MenuItem("修复、复核、复评", "arrow-repeat", "credit:cases", "credit.view_creditcase", "纳税信用"),
    MenuItem("银税互动", "bank", "credit:banktax", "credit.view_banktaxoutreach", "纳税信用"),
    MenuItem("筛查批次", "funnel", "refund:run_list", "refund.view_screeningrun", "留抵退税"),
    MenuItem("候选名单", "list-check", "refund:candidate_lists", "refund.view_candidatelist", "留抵退税"),
    MenuItem("我的候选名单", "person-check", "refund:my_candidates", "refund.work_candidateitem", "留抵退税"),
    MenuItem("信用修复提示", "megaphone", "refund:repair_notices", "refund.view_repairnotice", "留抵退税"),
    MenuItem("申请队列", "inboxes", "refund:application_queue", "refund.view_refundapplication", "留抵退税"),
    MenuItem("我的待办", "person-workspace", "refund:my_applications", "refund.review_refundapplication", "留抵退税"),
    MenuItem("申请导入", "upload", "refund:application_import", "refund.add_refundapplication", "留抵退税"),
    MenuItem("大额退税签批", "pen", "refund:sign_off", "refund.view_signoffthreshold", "留抵退税"),
    MenuItem("退税台账", "journal-bookmark", "ledger:entries", "ledger.view_ledgerentry", "台账"),
    MenuItem("待退库", "hourglass-split", "ledger:unpaid", "ledger.add_treasurypayment", "台账"),
    MenuItem("国库回执导入", "file-earmark-arrow-up", "ledger:payment_import", "ledger.add_treasurypayment", "台账"),
    MenuItem("每日登记", "calendar-check", "ledger:runs", "ledger.view_ledgerrun", "台账"),
    MenuItem("追缴记录", "arrow-counterclockwise", "ledger:clawbacks", "ledger.view_clawbacks", "台账"),
    MenuItem("风险指标库", "shield-exclamation", "risk:indicators", "risk.view_indicatorparameterversion", "风险管理"),
    MenuItem("风险等级规则", "sliders", "risk:grade_rules", "risk.view_graderule", "风险管理"),
    MenuItem("风险扫描", "radar", "risk:scans", "risk.view_scan", "风险管理"),
    MenuItem("风险任务", "clipboard-check", "risk:tasks", "risk.view_risktask", "风险管理"),
    MenuItem("上级下发任务导入", "cloud-arrow-down", "risk:task_import", "risk.import_risktask", "风险管理"),
    MenuItem("事后复核样本", "clipboard-check", "risk:reviews", "risk.view_monthlysample", "风险管理"),
    MenuItem("抽样参数", "dice-5", "risk:review_parameters", "risk.view_sampleparameterversion", "风险管理"),
    MenuItem("集体会商", "people-fill", "risk:consultations", "risk.view_consultation", "风险管理"),
    MenuItem("短信批次", "send", "notify:batch_list", "notify.view_smsbatch", "消息通知"),
    MenuItem("短信记录", "chat-left-text", "notify:message_list", "notify.view_smsmessage", "消息通知"),
    MenuItem("站内消息", "bell", "notify:inbox", None, "消息通知"),
    MenuItem("用户与岗位", "people", "accounts:user_list", "accounts.manage_roles", "系统管理"),
    MenuItem("岗位授权确认", "shield-check", "accounts:role_requests", "accounts.decide_rolegrantrequest", "系统管理"),
    MenuItem("审计日志", "journal-text", "accounts:audit_list", "accounts.view_auditevent", "系统管理"),
    MenuItem("申报期限", "calendar3", "taxpayers:filing_deadlines", "taxpayers.change_filingdeadline", "系统管理"),
    # The machine API's reference, for the information centre that connects other systems.
    MenuItem("接口文档", "code-square", "api-docs", None, "系统管理", staff_only=True),
)


def menu_for(user) -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    for item in MENU:
        if item.permission and not user.has_perm(item.permission):
            continue
        if item.staff_only and not user.is_staff:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "icon": item.icon, "url": url, "section": item.section})
    return items
