"""消息通知: message templates, the SMS outbox, delivery reports, the opt-out list and the in-app inbox.

Every SMS is a row (``SmsMessage``) before anything is sent; the dispatcher claims rows and hands
them to a backend. ``notify`` imports no app of ours but ``core``: related objects are generic
(content type + id) and users are ``settings.AUTH_USER_MODEL``.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from .text import segment_count


class MessageTemplate(models.Model):
    """短信模板: a text with ``{variables}``; administrators edit it, officers pick it for a batch."""

    code = models.SlugField("编码", max_length=50, unique=True)
    name = models.CharField("名称", max_length=100)
    body = models.TextField("内容", help_text="变量写作 {name}，例如：{taxpayer_name}")
    sign_text = models.CharField("签名", max_length=20, blank=True, help_text="计入字数，例如【示范县税务局】")
    mas_template_id = models.CharField(
        "云MAS模板编号",
        max_length=64,
        blank=True,
        help_text="在云MAS平台报备的模板ID。填写后，后端为云MAS时按模板短信接口（/sms/tmpsubmit）发送，"
        "变量值按其在内容中出现的顺序作为参数，平台模板的参数顺序须与此一致；留空则按普通短信发送。",
    )
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "短信模板"
        verbose_name_plural = "短信模板"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name  # what officers read wherever a template is named; the code is for programs

    def segments(self) -> int:
        return segment_count(self.body + self.sign_text)


class SmsBatch(models.Model):
    """短信批次: one template, many recipients; counts are kept by the dispatcher for the progress bar."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        SENDING = "sending", "发送中"
        DONE = "done", "已完成"

    name = models.CharField("批次名称", max_length=100)
    template = models.ForeignKey(MessageTemplate, verbose_name="模板", null=True, blank=True, on_delete=models.PROTECT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True, on_delete=models.PROTECT
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    total = models.PositiveIntegerField("总数", default=0)
    branch_id = models.PositiveBigIntegerField(
        "分局", null=True, blank=True, db_index=True, help_text="调用方给出的分局编号（notify 不引用机构表）；空：全局"
    )
    key = models.CharField(
        "幂等键", max_length=200, null=True, blank=True, unique=True, help_text="同一键再次创建时返回原批次"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "短信批次"
        verbose_name_plural = "短信批次"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def progress(self, counts: dict | None = None) -> dict:
        """Counts per status; finished = accepted or beyond. ``counts`` when the caller fetched them for a page."""
        if counts is None:
            counts = dict(self.messages.values_list("status").annotate(n=models.Count("id")).order_by())
        return progress_from_counts(counts, total=self.total)


def progress_from_counts(counts: dict, *, total: int) -> dict:
    finished = sum(counts.get(s, 0) for s in SmsMessage.FINISHED_STATUSES)
    percent = min(100, 100 * finished // total) if total else 100
    by_status = [(value, label, counts.get(value, 0)) for value, label in SmsMessage.Status.choices]
    return {"counts": counts, "finished": finished, "percent": percent, "unfinished": total - finished,
            "by_status": by_status}


class SmsMessage(models.Model):
    """The outbox row (短信发件箱). Status: queued → sending → accepted → delivered / failed / cancelled.

    ``idempotency_key`` is unique: a second enqueue of the same key returns this row, and the dispatcher
    only ever sends a row it claimed from ``queued`` (see ``notify.dispatch`` for the crash rules).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "待发送"
        SENDING = "sending", "发送中"
        ACCEPTED = "accepted", "网关已受理"
        DELIVERED = "delivered", "已送达"
        FAILED = "failed", "失败"
        CANCELLED = "cancelled", "已取消"

    FINISHED_STATUSES = ("accepted", "delivered", "failed", "cancelled")

    recipient = models.CharField("手机号码", max_length=32, help_text="规范化后的11位号码；无效输入原样保存")
    text = models.TextField("短信内容", help_text="含签名的完整内容")
    template = models.ForeignKey(
        MessageTemplate, verbose_name="模板", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    batch = models.ForeignKey(
        SmsBatch, verbose_name="批次", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    related_content_type = models.ForeignKey(
        ContentType, verbose_name="关联对象类型", null=True, blank=True, on_delete=models.PROTECT
    )
    related_object_id = models.CharField("关联对象编号", max_length=64, blank=True)
    related = models.CharField("关联说明", max_length=200, blank=True)
    branch_id = models.PositiveBigIntegerField(
        "分局", null=True, blank=True, help_text="调用方给出的分局编号（notify 不引用机构表），用于筛选和分局范围"
    )
    gateway_template_id = models.CharField("云MAS模板编号", max_length=64, blank=True)
    template_params = models.TextField(
        "模板参数", blank=True, help_text="tmpsubmit 的 params：紧凑 JSON 数组字符串，与计算 mac 的字符串相同"
    )
    resend_of = models.ForeignKey(
        "self", verbose_name="重发自", null=True, blank=True, on_delete=models.PROTECT, related_name="resends"
    )
    idempotency_key = models.CharField("幂等键", max_length=200, unique=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField("发送次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送时间", null=True, blank=True)
    lease_expires_at = models.DateTimeField("占用到期", null=True, blank=True)
    claimed_by = models.CharField("占用者", max_length=64, blank=True)
    msg_group = models.CharField("网关批次号", max_length=64, blank=True, db_index=True)
    error_code = models.CharField("错误代码", max_length=64, blank=True)
    error_message = models.CharField("错误说明", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    sending_started_at = models.DateTimeField("开始发送", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    report_status = models.CharField("状态报告", max_length=32, blank=True)

    class Meta:
        verbose_name = "短信"
        verbose_name_plural = "短信"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notify_sms_due"),
            models.Index(fields=["msg_group", "recipient"], name="notify_sms_group_mobile"),
            models.Index(fields=["branch_id", "-id"], name="notify_sms_branch"),
            models.Index(fields=["batch", "status"], name="notify_sms_batch_status"),
        ]
        permissions = [
            ("send_smsmessage", "可以发送和重发短信"),
            ("export_smsmessage", "可以导出短信记录"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.get_status_display()}"

    def segments(self) -> int:
        return segment_count(self.text)


class SmsReport(models.Model):
    """A delivery report (状态报告) as received, matched to its message by ``msgGroup`` + ``mobile``.

    Unmatched reports are kept: a report may arrive before the worker has recorded the gateway's answer,
    or for a send whose worker died before it could (``notify.dispatch.resolve_stale``).
    """

    message = models.ForeignKey(
        SmsMessage, verbose_name="短信", null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    msg_group = models.CharField("网关批次号", max_length=64, blank=True)
    mobile = models.CharField("手机号码", max_length=32)
    report_status = models.CharField("reportStatus", max_length=32, blank=True)
    error_code = models.CharField("errorCode", max_length=32, blank=True)
    delivered = models.BooleanField("已送达")
    submit_date = models.DateTimeField("提交时间", null=True, blank=True)
    receive_date = models.DateTimeField("接收时间", null=True, blank=True)
    received_at = models.DateTimeField("收到时间", auto_now_add=True)
    raw = models.JSONField("原文", default=dict)
    # SHA-256 of the report as received (canonical JSON): the gateway retries a push it thinks failed, and a
    # replayed report must not be stored twice. Null on rows kept from before it existed.
    fingerprint = models.CharField("报告指纹", max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = "状态报告"
        verbose_name_plural = "状态报告"
        indexes = [models.Index(fields=["msg_group", "mobile"], name="notify_report_group_mobile")]

    def __str__(self) -> str:
        return f"{self.msg_group} {self.mobile} {self.error_code or self.report_status}"


class OptOut(models.Model):
    """退订名单: numbers that asked not to receive messages; the dispatcher cancels their rows."""

    mobile = models.CharField("手机号码", max_length=11, unique=True)
    reason = models.CharField("原因", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "退订号码"
        verbose_name_plural = "退订号码"

    def __str__(self) -> str:
        return self.mobile


class InboxNotification(models.Model):
    """站内消息 for an officer, e.g. "分局新候选名单 12 户" with a link to the list."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="inbox_notifications"
    )
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=500, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notify_inbox_unread"),
        ]

    def __str__(self) -> str:
        return self.title
