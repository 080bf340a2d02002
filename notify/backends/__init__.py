"""SMS backends behind one interface: ``get_backend().send(mobiles, text) -> SendResult``.

``console`` (default) only logs and reports acceptance; ``mas`` speaks the 云MAS HTTP protocol. A backend
with ``supports_templates`` also has ``send_template(mobiles, template_id, params)``, which the dispatcher
uses for messages from a template registered on the platform; other backends get the rendered text.
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
    supports_templates = False

    def send(self, mobiles: list[str], text: str) -> SendResult:
        raise NotImplementedError

    def send_template(self, mobiles: list[str], template_id: str, params: list[str]) -> SendResult:
        raise NotImplementedError


BACKENDS = {
    "console": "notify.backends.console.ConsoleBackend",
    "mas": "notify.backends.mas.MasBackend",
}


def get_backend(name: str | None = None) -> BaseBackend:
    name = name or settings.SMS_BACKEND or "console"
    return import_string(BACKENDS[name])()
