"""``manage.py sms_send --to 13800138000 --text "…"`` — the bureau's command format for a test SMS.

One message, now, through the configured backend, recorded in the outbox like any other (no quiet hours:
an operator runs it by hand; an opted-out number is refused like a bad one).
Exit 0 with {"status": "accepted", …}; exit 2 with {"error", "message"}.
"""

import json
import sys
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from notify import dispatch
from notify.backends import Outcome, get_backend
from notify.models import OptOut, SmsMessage
from notify.services import SmsRejected, check_mobile, check_text


class Command(BaseCommand):
    help = "Send one SMS now through the configured backend (SMS_BACKEND) and print the outcome as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True)
        parser.add_argument("--text", required=True)

    def _finish(self, payload: dict, code: int):
        self.stdout.write(json.dumps(payload, ensure_ascii=False))
        self.stdout.flush()
        if code:
            sys.exit(code)

    def handle(self, *args, **options):
        now = timezone.now()
        worker = "cli-" + uuid.uuid4().hex[:12]
        row = SmsMessage(
            recipient=str(options["to"])[:32],
            text=options["text"] or "",
            idempotency_key=f"cli:{uuid.uuid4().hex}",
            related="manage.py sms_send",
            next_attempt_at=now,
        )
        try:
            row.recipient = check_mobile(options["to"])
            row.text = check_text(options["text"])
            if OptOut.objects.filter(mobile=row.recipient).exists():
                raise SmsRejected("opted_out", f"号码已退订，不发送：{row.recipient}")
        except SmsRejected as exc:
            row.status, row.error_code, row.error_message, row.finished_at = "failed", exc.code, exc.message, now
            row.save()
            return self._finish({"error": exc.code, "message": exc.message, "message_id": row.pk}, 2)
        # Claimed by this process from the start: no dispatcher will pick it up.
        row.status, row.claimed_by, row.attempts, row.sending_started_at = "sending", worker, 1, now
        row.lease_expires_at = now + timezone.timedelta(seconds=settings.SMS_LEASE_SECONDS)
        row.save()
        backend = get_backend()
        result = backend.send([row.recipient], row.text)
        if result.outcome == Outcome.ACCEPTED:
            dispatch.record_result(rows=[row], worker=worker, result=result)
            return self._finish(
                {"status": "accepted", "backend": backend.name, "msg_group": result.msg_group, "message_id": row.pk}, 0
            )
        # Any failure is final for a hand-run command: the operator sees it and decides.
        SmsMessage.objects.filter(pk=row.pk, claimed_by=worker).update(
            status="failed", error_code=result.code[:64], error_message=result.message[:500],
            finished_at=timezone.now(), lease_expires_at=None,
        )
        return self._finish({"error": result.code, "message": result.message, "message_id": row.pk}, 2)
