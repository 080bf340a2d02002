"""SMS backends behind one interface: ``get_backend().send(mobiles, text) -> SendResult``.

``console`` (default) only logs and reports acceptance; ``mas`` speaks the 云MAS HTTP protocol.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


class Outcome:
    ACCEPTED = "accepted"
    TRANSIENT = "transient"  # the gateway certainly did not take it: safe to retry
    PERMANENT = "permanent"  # rejected: retrying cannot help
    UNKNOWN = "unknown"  # the gateway may or may not have taken it (timeout, garbled answer)


@dataclass(frozen=True)
class SendResult:
    outcome: str
    msg_group: str = ""
    code: str = ""
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome == Outcome.ACCEPTED


class BaseBackend:
    name = "base"
    max_mobiles = 5000

    def send(self, mobiles: list[str], text: str) -> SendResult:
        raise NotImplementedError


BACKENDS = {
    "console": "notify.backends.console.ConsoleBackend",
    "mas": "notify.backends.mas.MasBackend",
}


def get_backend(name: str | None = None) -> BaseBackend:
    name = name or settings.SMS_BACKEND or "console"
    return import_string(BACKENDS[name])()
