"""Pure helpers: mobile numbers, SMS length, template rendering, template variables in officers' words. No ORM here."""

import re
import string

import phonenumbers

SINGLE_PART = 70  # characters in a one-part SMS, signature included
MULTI_PART = 67  # characters per part once the text needs more than one part
_SEPARATORS = re.compile(r"[\s\-()（）]")


class InvalidMobile(ValueError):
    """The input is not a mainland China mobile number."""


def normalise_mobile(raw: str) -> str:
    """Return the bare 11-digit number or raise ``InvalidMobile``.

    Spaces/dashes are stripped and a leading +86/86 dropped when 13 digits remain; validity is
    libphonenumber's CN mobile metadata (stricter than "1, then 3-9, then 9 digits"), so unallocated blocks (140,
    154…) fail.
    """
    value = _SEPARATORS.sub("", str(raw or ""))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    if not re.fullmatch(r"1\d{10}", value):
        raise InvalidMobile(raw)
    parsed = phonenumbers.parse(value, "CN")
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidMobile(raw)
    return value


def mask_mobile(value: str) -> str:
    """138****8000 for lists (masked numbers in every list)."""
    if len(value) == 11 and value.isdigit():
        return f"{value[:3]}****{value[-4:]}"
    return value[:3] + "****" if len(value) > 3 else "****"


def segment_count(text: str) -> int:
    """Parts billed for ``text`` (signature included): 70 characters for one, 67 per part beyond."""
    length = len(text)
    if length == 0:
        return 0
    if length <= SINGLE_PART:
        return 1
    return -(-length // MULTI_PART)


# The variables the product's templates use, as officers read them: the one table between a template's
# ``{taxpayer_name}`` and the ``{纳税人名称}`` shown on every page, and the column headers of a recipient list.
# Stored template bodies and rendering keep the keys; a variable missing here is shown as it is written.
VARIABLE_LABELS = {
    "taxpayer_name": "纳税人名称",
    "period": "所属期",
    "branch_name": "主管税务分局",
    "refund_kind": "退税类型",
    "amount": "退税金额",
    "paid_on": "退库日期",
    "level": "信用级别",
    "indicator_name": "失信行为",
    "recorded_on": "记录日期",
    "points": "分值",
    "deadline": "纠正期限",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def variable_label(name: str) -> str:
    """``taxpayer_name`` -> ``纳税人名称``."""
    return VARIABLE_LABELS.get(name, name)


def display_body(body: str) -> str:
    """A template text as officers read it: ``{taxpayer_name}`` -> ``{纳税人名称}``; the stored text keeps the keys."""
    return _PLACEHOLDER.sub(lambda m: "{" + variable_label(m.group(1)) + "}", body or "")


def template_variables(body: str) -> list[str]:
    """Every ``{name}`` in order of occurrence (a name used twice appears twice)."""
    return [name for _, name, _, _ in string.Formatter().parse(body) if name]


def unique_variables(body: str) -> list[str]:
    """The variable names once each, in order of first occurrence: the columns of a recipient list."""
    return list(dict.fromkeys(template_variables(body)))


def template_param_values(body: str, variables: dict) -> list[str]:
    """The 云MAS template ``params``: one value per placeholder, in the order the placeholders occur.

    Our template body mirrors the platform's template with each of its placeholders named, so a name
    used twice fills two platform placeholders.
    """
    missing = [name for name in template_variables(body) if name not in variables]
    if missing:
        raise MissingVariable(missing)
    return [str(variables[name]) for name in template_variables(body)]


class MissingVariable(KeyError):
    """``names``: the variables without a value; ``args[0]`` names them in officers' words (纳税人名称、所属期)."""

    def __init__(self, names: list[str]):
        self.names = list(dict.fromkeys(names))
        super().__init__("、".join(variable_label(name) for name in self.names))


def render(body: str, variables: dict) -> str:
    """Fill ``{name}`` placeholders; a missing variable is an error, never an empty hole in a notice."""
    missing = [name for name in template_variables(body) if name not in variables]
    if missing:
        raise MissingVariable(missing)
    return body.format_map({k: str(v) for k, v in variables.items()})
