"""The registry of scheduled jobs (定时任务).

Each entry becomes a django-celery-beat ``PeriodicTask`` with a ``CrontabSchedule`` in
Asia/Shanghai, created by ``manage.py setup_schedules``. That command only creates
entries that are missing: once a row exists, administrators own it (they may change
the time or disable it in the admin) and the registry never overwrites it.

Add a job here, not in ``CELERY_BEAT_SCHEDULE``: only one beat process runs, with the
database scheduler.
"""

from dataclasses import dataclass

SCHEDULE_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class ScheduleEntry:
    name: str  # unique PeriodicTask name: the marker that tells whether the entry exists
    task: str  # registered Celery task name
    description: str  # shown to administrators (Chinese)
    minute: str = "*"
    hour: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"
    day_of_week: str = "*"
    timezone: str = SCHEDULE_TIMEZONE
    # A run not picked up by a worker within this many seconds is dropped, so a worker
    # that was down does not work through a backlog of stale runs. None: never expires.
    expire_seconds: int | None = None

    @classmethod
    def daily(cls, name: str, task: str, description: str, *, at: str, expire_hours: int) -> "ScheduleEntry":
        """A job run once a day at ``at`` (``"7:30"``, Beijing time) that expires after ``expire_hours``."""
        hour, minute = (str(int(part)) for part in at.split(":"))
        return cls(name, task, description, minute=minute, hour=hour, expire_seconds=expire_hours * 3600)


SCHEDULES: list[ScheduleEntry] = [
    ScheduleEntry(
        name="worker-heartbeat",
        task="accounts.tasks.record_worker_heartbeat",
        description="每分钟记录一次后台任务心跳；/health/ 据此判断定时调度（beat）与后台工作进程是否正常运行。",
        minute="*",
        expire_seconds=120,
    ),
    ScheduleEntry(
        name="import-jobs-sweep",
        task="taxpayers.sweep_import_jobs",
        description="每5分钟检查一次数据导入：消息丢失仍在排队、或后台进程中断后停在“校验中/写入中”的导入重新交给后台执行（中断的导入未写入任何数据）。",
        minute="*/5",
        expire_seconds=240,
    ),
    ScheduleEntry(
        name="screening-runs-sweep",
        task="refund.sweep_screening_runs",
        description="每5分钟检查一次筛查批次：消息丢失仍在排队、或后台进程中断后停在“运行中”的筛查重新开始（中断时写入的部分结果先清除）。",
        minute="*/5",
        expire_seconds=240,
    ),
    ScheduleEntry.daily(
        "refund-nightly-screening",
        "refund.nightly_screening",
        "每天凌晨2点对全部一般纳税人按当月申请所属期进行留抵退税筛查（在夜间数据导入之后）。",
        at="2:00",
        expire_hours=6,
    ),
    ScheduleEntry(
        name="sms-dispatch-safety-net",
        task="notify.tasks.dispatch_outbox",
        description="每5分钟检查一次短信发件箱：发送到期的短信（含静默时段后放行与失败重试），防止唤醒任务丢失时积压。",
        minute="*/5",
        hour="8-20",
        expire_seconds=240,
    ),
    ScheduleEntry(
        name="sms-report-pull",
        task="notify.tasks.poll_mas_reports",
        description="每分钟向云MAS拉取一次短信状态报告（HTTPS接口，MAS_REPORT_PULL=true 时生效；每5秒最多请求一次）。",
        minute="*",
        expire_seconds=55,
    ),
    # 候选名单 (refund): the push dates — the day after the filing deadline and the last working day of the month.
    ScheduleEntry.daily(
        "refund-push-eve-screening",
        "refund.push_eve_screening",
        "每天22:00：若次日是候选名单推送日，发起次日申请所属期的留抵退税筛查，保证7:30生成名单时已有完成的筛查（凌晨2点的筛查仍照常运行）。",
        at="22:00",
        expire_hours=2,
    ),
    ScheduleEntry.daily(
        "refund-push-date-lists",
        "refund.push_date_lists",
        "每天7:30：若当天是推送日，按最近一次完成的筛查（必要时先筛查）生成各分局和纳税服务股的候选名单，并发站内通知；非推送日不做任何事。",
        at="7:30",
        expire_hours=4,
    ),
    ScheduleEntry.daily(
        "refund-push-date-auto-remind",
        "refund.push_date_auto_remind",
        "每天9:00：若当天是推送日且“候选名单设置”开启了自动提醒，向当日候选纳税人发送提醒短信（每户每份名单只发一次）。",
        at="9:00",
        expire_hours=3,
    ),
    # 退税台账 (ledger): the morning registration of the previous day's refunds and the bills.
    ScheduleEntry.daily(
        "ledger-register-previous-day",
        "ledger.register_previous_day",
        "每天8:30：登记前一天国库退库的退税台账，并向每户已退税纳税人的财务负责人发送退税账单短信（每笔只登记、只发送一次）。",
        at="8:30",
        expire_hours=6,
    ),
    # 事后复核 (risk): the monthly sample of the refunds paid, once the ledger holds the month's last day.
    ScheduleEntry(
        name="risk-monthly-sample",
        task="risk.monthly_sample",
        description="每月2日7:00：对上月已退税纳税人做风险扫描，并按抽样参数抽取上月退税的事后复核样本（重点行业大额、即征即退、退税额最大的若干笔及其余随机抽取；每月只抽取一次）。",
        minute="0",
        hour="7",
        day_of_month="2",
        expire_seconds=20 * 3600,
    ),
    # 信用预警 (credit): the daily prediction of every taxpayer's rating for the current year.
    ScheduleEntry.daily(
        "credit-daily-warnings",
        "credit.daily_warnings",
        "每天6:00：推算逾期申报，再预测每户纳税人本年度的信用得分和级别（预警名单据此生成）。",
        at="6:00",
        expire_hours=6,
    ),
]
