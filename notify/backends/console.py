import logging
import uuid

from . import BaseBackend, Outcome, SendResult

logger = logging.getLogger(__name__)


class ConsoleBackend(BaseBackend):
    """Development default: nothing leaves the machine; the message goes to the log and counts as accepted."""

    name = "console"

    def send(self, mobiles: list[str], text: str) -> SendResult:
        # Shown in exports as 网关批次号: Chinese, so nobody takes it for a real platform batch.
        msg_group = f"本机模拟-{uuid.uuid4().int % 10**14:014d}"
        logger.info("sms console send", extra={"mobiles": len(mobiles), "msg_group": msg_group, "text": text})
        return SendResult(Outcome.ACCEPTED, msg_group=msg_group, code="success")
