"""信用修复提示: the taxpayers a screening failed only on their credit rating, told to repair it."""

from django.conf import settings
from django.db import models

from taxpayers.fields import MoneyField
from taxpayers.models import Taxpayer

from .screening import ScreeningRun


class RepairNotice(models.Model):
    """信用修复提示: one taxpayer of one screening run whose only failed condition is 纳税信用级别为A级或B级, with
    the refund a B rating would unlock (the screening's what-if).

    Listed after each ratings import and on demand; the service section sends each one SMS through the outbox,
    never twice for the same taxpayer and run (one row per run and taxpayer, one outbox key per row).
    """

    run = models.ForeignKey(ScreeningRun, verbose_name="依据的筛查", on_delete=models.CASCADE, related_name="+")
    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="refund_repair_notices"
    )
    level = models.CharField("筛查时信用级别", max_length=2)
    regime_if_b = models.CharField("B级时适用政策", max_length=40, blank=True)
    refundable_if_b = MoneyField("B级时可退税额", default=0)
    listed_at = models.DateTimeField("列入时间", auto_now_add=True)
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="列入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sms = models.ForeignKey(
        "notify.SmsMessage",
        verbose_name="提示短信",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    send_error = models.CharField("未能发送的原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "信用修复提示"
        verbose_name_plural = "信用修复提示"
        ordering = ["-refundable_if_b", "taxpayer_id"]
        permissions = [
            ("list_repairnotices", "生成信用修复提示名单"),
            ("send_repairnotices", "发送信用修复提示短信"),
            ("export_repairnotice", "导出信用修复提示名单"),
        ]
        constraints = [models.UniqueConstraint(fields=["run", "taxpayer"], name="repair_notice_one_per_run")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.taxpayer_id} 信用修复提示"
