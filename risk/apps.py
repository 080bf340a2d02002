import importlib.util

from django.apps import AppConfig

CHECKS_MODULE = "risk.application_checks"


class RiskConfig(AppConfig):
    """风险管理: the indicator library and its parameters, scans with their hits and grades; the applications' gate
    checks and their scan on arrival and before approval, and the candidate lists' scan before they are pushed,
    handed to refund's registries; the monthly post-refund review sample (事后复核); the collective consultations
    (集体会商), whose decision refund's approval asks for; risk tasks through six stages; the 工作台 blocks of the
    latest scan's hits and of the tasks."""

    name = "risk"
    verbose_name = "风险管理"

    def ready(self) -> None:
        register_application_checks()
        register_application_scanner()
        register_candidate_scanner()
        register_consultation_decision()
        _register_audit_labels()
        from accounts.home_blocks import register_home_block

        from . import jobs  # noqa: F401 - registers the Celery tasks (scan, monthly sample) with every worker
        from .home import home_block as hits_block
        from .tasks.home import home_block as tasks_block

        register_home_block(hits_block)
        register_home_block(tasks_block)
        from .tasks import consulting  # noqa: F401  (a consultation's decision gives its task the outcome)


def _register_audit_labels() -> None:
    """The audit log's words for what risk records (accounts.audit_labels)."""
    from accounts.audit_labels import register

    register(
        verbs={
            "risk.scan": "发起风险扫描",
            "risk.parameter_change": "修改风险指标参数",
            "risk.grade_rule_change": "修改风险等级规则",
            "risk.sample_draw": "抽取事后复核样本",
            "risk.sample_parameter_change": "修改事后复核抽样参数",
            "risk.consultation_open": "发起集体会商",
            "risk.consultation_participants_add": "邀请会商参会人",
            "risk.consultation_opinion": "发表会商意见",
            "risk.consultation_decide": "作出会商决定",
            "risk.task_create": "建立风险任务",
            "risk.task_analyse": "开始分析风险任务",
            "risk.task_assign": "派发风险任务",
            "risk.task_push_down": "下发风险任务到分局",
            "risk.task_respond": "登记风险任务应对情况",
            "risk.task_file_add": "上传风险任务应对材料",
            "risk.task_file_download": "下载风险任务应对材料",
            "risk.task_submit": "提交风险任务反馈",
            "risk.task_send_back": "退回风险任务补充应对",
            "risk.task_outcome": "作出风险任务处理结果",
            "risk.task_close": "办结风险任务",
            "risk.task_import": "导入上级下发风险任务",
            "risk.task_consult": "风险任务提请集体会商",
        },
        object_types={
            "risk.scan": "风险扫描",
            "risk.riskhit": "风险疑点",
            "risk.indicatorparameterversion": "风险指标参数",
            "risk.graderule": "风险等级规则",
            "risk.monthlysample": "事后复核样本",
            "risk.sampledrefund": "事后复核样本退税",
            "risk.sampleparameterversion": "事后复核抽样参数",

            "risk.consultation": "集体会商",
            "risk.risktask": "风险任务",
            "risk.risktaskimport": "上级下发风险任务导入",
        },
    )
    register(
        object_type="risk.consultation",
        keys={"participants": "参会人", "opinion": "会商意见", "text": "意见内容"},
    )


def register_application_checks(module_name: str = CHECKS_MODULE) -> bool:
    """Give the applications' risk gate this app's checks (the ``APPLICATION_CHECKS`` of ``module_name``, the four
    of ``risk.application_checks`` by default) through refund's registry — refund never imports risk. False, and
    nothing registered, for a module that does not exist."""
    if importlib.util.find_spec(module_name) is None:
        return False
    from refund.applications.risk import register_application_checks as register

    register(getattr(importlib.import_module(module_name), "APPLICATION_CHECKS", ()))
    return True


def register_application_scanner() -> None:
    """Give the applications' workflow this app's scan on arrival and before approval, with the grade and the page's
    panel (``risk.application_scans``), through refund's registry."""
    from refund.applications.risk import register_application_scanner as register

    from .application_scans import SCANNER

    register(SCANNER)


def register_candidate_scanner() -> None:
    """Give the candidate lists this app's scan before they are pushed, with the items' flags and the candidate
    page's panel (``risk.candidate_scans``), through refund's registry."""
    from refund.candidates.risk import register_candidate_scanner as register

    from .candidate_scans import SCANNER

    register(SCANNER)


def register_consultation_decision() -> None:
    """Tell refund's approval whether a 集体会商 decided that a high-risk application may be approved
    (``risk.consultations.resolver``), through refund's registry."""
    from refund.applications.risk import register_consultation_decision as register

    from .consultations.resolver import consultation_allows

    register(consultation_allows)
