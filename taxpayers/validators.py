"""Validation of the identifiers and numbers that arrive from the core tax system (金三).

``validate_taxpayer_id`` is the one check of a 纳税人识别号: imports, forms and the API all call it.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError

from .industry import parse_industry_code

# GB 32100-2015 统一社会信用代码: 31 symbols (no I, O, Z, S, V); weights are 3^(i-1) mod 31.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997 组织机构代码, embedded in positions 9-17 of a USCC.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_LEGACY = re.compile(r"^[0-9A-Z]{15}$|^[0-9A-Z]{20}$")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_is_valid(code: str) -> bool:
    """GB 11714-1997 check of a 9-character organisation code (a warning, never a rejection)."""
    if len(code) != 9 or not code[:8].isalnum():
        return False
    values = [int(c, 36) for c in code[:8]]
    remainder = 11 - sum(v * w for v, w in zip(values, ORG_CODE_WEIGHTS, strict=True)) % 11
    expected = {10: "X", 11: "0"}.get(remainder, str(remainder))
    return code[8] == expected


def normalise_taxpayer_id(value) -> str:
    return re.sub(r"\s+", "", str(value or "")).upper()


def validate_taxpayer_id(value) -> str:
    """Return the normalised 纳税人识别号 or raise ``ValidationError`` with a Chinese message.

    18 characters: a 统一社会信用代码 whose GB 32100-2015 check character must pass.
    15 or 20 characters: the older 税务登记证号 formats, checked for shape only.
    """
    code = normalise_taxpayer_id(value)
    if len(code) == 18:
        if any(c not in USCC_CHARSET for c in code):
            raise ValidationError(
                "纳税人识别号“%(value)s”含有统一社会信用代码不允许的字符（不使用 I、O、Z、S、V）。",
                code="invalid_charset",
                params={"value": code},
            )
        if uscc_check_char(code[:17]) != code[17]:
            raise ValidationError(
                "纳税人识别号“%(value)s”校验位错误，请核对统一社会信用代码。",
                code="invalid_check_char",
                params={"value": code},
            )
        return code
    if len(code) in (15, 20):
        if not _LEGACY.match(code):
            raise ValidationError(
                "纳税人识别号“%(value)s”格式不正确：旧版识别号只能由数字和大写字母组成。",
                code="invalid_format",
                params={"value": code},
            )
        return code
    raise ValidationError(
        "纳税人识别号“%(value)s”长度为 %(length)s 位，应为 18 位统一社会信用代码（或 15、20 位旧版识别号）。",
        code="invalid_length",
        params={"value": code, "length": len(code)},
    )


def taxpayer_id_warnings(code: str) -> list[str]:
    """Doubts an officer should see but that do not reject the identifier."""
    if len(code) == 18 and not org_code_is_valid(code[8:17]):
        return ["统一社会信用代码中内嵌的组织机构代码未通过 GB 11714 校验，请核实。"]
    return []


def normalise_mobile(value) -> str:
    """Strip spaces, dashes and a leading +86/86; the result may still be invalid."""
    digits = re.sub(r"[\s\-()]", "", str(value or ""))
    if digits.startswith("+"):
        digits = digits[1:]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def validate_mobile(value) -> str:
    """Return the bare 11-digit mainland mobile number, or raise with a Chinese message.

    Validity follows libphonenumber's metadata for CN mobiles (the ``phonenumbers`` package),
    so newly opened number blocks arrive with a package update, not a code change.
    """
    number = normalise_mobile(value)
    if not re.fullmatch(r"1\d{10}", number):
        raise ValidationError(
            "手机号码“%(value)s”格式不正确，应为 11 位数字。", code="invalid_mobile", params={"value": value}
        )
    parsed = phonenumbers.parse(number, "CN")
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            "手机号码“%(value)s”不是有效的中国大陆手机号段。", code="invalid_mobile", params={"value": value}
        )
    return number


def validate_industry_code(value) -> str:
    industry = parse_industry_code(str(value or ""))
    if industry is None:
        raise ValidationError(
            "行业代码“%(value)s”不是有效的 GB/T 4754-2017 国民经济行业分类代码。",
            code="invalid_industry",
            params={"value": value},
        )
    return industry.code
