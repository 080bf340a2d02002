"""The case's JSON (what ``manage.py refund_assess`` reads): the parser into ``Case`` and the one writer back.

The parser reads form only — periods, dates, numbers, objects and lists where the contract has them — and hands
the values to ``inputs.validated_case``, which refuses bad values (unknown levels, negative amounts, a return
given twice …) the same way for a case built in process. ``case_to_json`` writes a case as the contract's JSON:
what the taxpayer-case command prints, the explanation page shows and an application keeps as its inputs
snapshot; ``parse_case(case_to_json(case)) == case`` for every case in the form the rules read.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.contract import JsonReader

from .errors import CaseError
from .inputs import (
    ZERO,
    Adjustments,
    Case,
    Compliance,
    InputTax,
    PreviousRefund,
    SizeInputs,
    Taxpayer,
    VatReturn,
    check_application_date,
    checked_amount,
    validated_adjustments,
    validated_compliance,
    validated_previous_refunds,
    validated_returns,
    validated_taxpayer,
)
from .options import parse_options
from .parameters import VOUCHER_KINDS

_read = JsonReader(CaseError)
_object, _list, _period, _date = _read.object, _read.list, _read.period, _read.date
_number, _bool = _read.number, _read.boolean

# Transfers out (进项税额转出) are never subtracted from the ratio (国家税务总局公告2019年第45号 第三条,
# 2022年第4号 第二条, 2025年第20号 第四条), so such a figure is accepted and ignored.
IGNORED_INPUT_KEYS = ("transfer_out", "transferred_out", "input_tax_transferred_out")


def load_case_json(text: str) -> Case:
    """Parse the contract's JSON text. Floats become ``Decimal``; NaN and Infinity are refused."""
    return parse_case(_read.load(text))


def parse_case(raw: object) -> Case:
    """Build a ``Case`` from the decoded JSON object (dicts, lists, strings, numbers), checked part by part in
    the order the contract lists them (``inputs.validated_case``, one part at a time)."""
    if not isinstance(raw, dict):
        raise CaseError("invalid_json", "输入必须是一个 JSON 对象。")
    if "application_period" not in raw:
        raise CaseError("invalid_period", "缺少 application_period（申请退税的纳税申报期，YYYY-MM）。")
    application_period = _period(raw["application_period"], "application_period")
    application_date = application_period.first_day
    if raw.get("application_date") is not None:
        application_date = _date(raw["application_date"], "application_date")
        check_application_date(application_period, application_date)
    taxpayer = validated_taxpayer(_taxpayer(_object(raw.get("taxpayer"), "taxpayer", required=True)))
    compliance = validated_compliance(_compliance(_object(raw.get("compliance"), "compliance")))
    returns = validated_returns(_returns(raw.get("returns")))
    adjustments = validated_adjustments(_adjustments(_object(raw.get("adjustments"), "adjustments")))
    previous_refunds = validated_previous_refunds(_previous_refunds(raw.get("previous_refunds")))
    options = parse_options(raw.get("options"))
    return Case(
        application_period=application_period,
        application_date=application_date,
        taxpayer=taxpayer,
        compliance=compliance,
        returns=returns,
        adjustments=adjustments,
        previous_refunds=previous_refunds,
        options=options,
    )


def _taxpayer(raw: dict) -> Taxpayer:
    if raw.get("credit_level") is None:
        raise CaseError("invalid_json", "缺少 taxpayer.credit_level（纳税信用级别）。")
    since = None
    if raw.get("general_taxpayer_since") is not None:
        since = _date(raw["general_taxpayer_since"], "taxpayer.general_taxpayer_since")
    sales = tuple(
        (key, _number(value, f"taxpayer.sales_12m_by_industry.{key}"))
        for key, value in _object(raw.get("sales_12m_by_industry"), "taxpayer.sales_12m_by_industry").items()
    )
    size_inputs = None
    if raw.get("size_inputs") is not None:
        size_inputs = _size_inputs(_object(raw["size_inputs"], "taxpayer.size_inputs"))
    filing_frequency = raw.get("filing_frequency")
    return Taxpayer(
        credit_level=raw["credit_level"],
        filing_frequency="monthly" if filing_frequency is None else filing_frequency,
        general_taxpayer_since=since,
        industry_code=raw.get("industry_code"),
        sales_12m_by_industry=sales,
        size=raw.get("size"),
        size_inputs=size_inputs,
    )


def _size_inputs(raw: dict) -> SizeInputs:
    where = "taxpayer.size_inputs"
    sales = assets = months = None
    if raw.get("prev_year_vat_sales") is not None:
        sales = _number(raw["prev_year_vat_sales"], f"{where}.prev_year_vat_sales")
    if raw.get("total_assets_prev_year_end") is not None:
        assets = _number(raw["total_assets_prev_year_end"], f"{where}.total_assets_prev_year_end")
    if raw.get("prev_year_months_operated") is not None:
        value = raw["prev_year_months_operated"]
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
            raise CaseError("invalid_json", f"{where}.prev_year_months_operated 的值 {value!r} 无效。")
        months = int(str(value).strip())
    return SizeInputs(
        industry=raw.get("industry"),
        prev_year_vat_sales=sales,
        prev_year_months_operated=months,
        total_assets_prev_year_end=assets,
    )


def _compliance(raw: dict) -> Compliance:
    return Compliance(
        refund_fraud_or_false_invoice_dates=_dates(
            raw.get("refund_fraud_or_false_invoice_dates"), "compliance.refund_fraud_or_false_invoice_dates"
        ),
        tax_evasion_penalty_dates=_dates(raw.get("tax_evasion_penalty_dates"), "compliance.tax_evasion_penalty_dates"),
        immediate_refund_since_2019_04=_bool(
            raw.get("immediate_refund_since_2019_04"), "compliance.immediate_refund_since_2019_04"
        ),
        immediate_refund_repaid=_bool(raw.get("immediate_refund_repaid"), "compliance.immediate_refund_repaid"),
    )


def _dates(value: object, where: str) -> tuple[date, ...]:
    return tuple(_date(item, where) for item in _list(value, where))


def _returns(value: object) -> tuple[VatReturn, ...]:
    """The returns as given (their order and any period given twice are for ``validated_returns``)."""
    returns = []
    for index, raw in enumerate(_list(value, "returns")):
        where = f"returns[{index}]"
        raw = _object(raw, where, required=True)
        if "period" not in raw:
            raise CaseError("invalid_period", f"{where} 缺少 period（税款所属期）。")
        period = _period(raw["period"], f"{where}.period")
        if raw.get("end_credit") is None:
            raise CaseError("invalid_amount", f"{where} 缺少 end_credit（期末留抵税额）。")
        end_credit = _number(raw["end_credit"], f"{where}.end_credit")
        returns.append(
            VatReturn(period, end_credit, _input_tax(_object(raw.get("input_tax"), f"{where}.input_tax"), where))
        )
    return tuple(returns)


def _input_tax(raw: dict, where: str) -> InputTax:
    amounts: dict[str, Decimal] = {}
    for key, value in raw.items():
        if key in IGNORED_INPUT_KEYS:
            checked_amount(_number(value, f"{where}.input_tax.{key}"), f"{where}.input_tax.{key}")  # well-formed
            continue
        if key not in VOUCHER_KINDS:
            raise CaseError("invalid_json", f"{where}.input_tax 中的凭证种类 {key!r} 不在合同列出的种类中。")
        if value is None:
            continue
        amounts[key] = _number(value, f"{where}.input_tax.{key}")
    return InputTax(**amounts)


def _adjustments(raw: dict) -> Adjustments:
    values = {}
    for key in ("approved_unbooked_export_refund", "vat_arrears"):
        if raw.get(key) is not None:
            values[key] = _number(raw[key], f"adjustments.{key}")
    return Adjustments(**values)


def _previous_refunds(value: object) -> tuple[PreviousRefund, ...]:
    refunds = []
    for index, raw in enumerate(_list(value, "previous_refunds")):
        where = f"previous_refunds[{index}]"
        raw = _object(raw, where, required=True)
        if "application_period" not in raw:
            raise CaseError("invalid_period", f"{where} 缺少 application_period。")
        period = _period(raw["application_period"], f"{where}.application_period")
        regime = raw.get("regime")
        if regime is not None and not isinstance(regime, str):
            raise CaseError("invalid_json", f"{where}.regime 必须是字符串。")
        amount = _number(raw["amount"], f"{where}.amount") if raw.get("amount") is not None else ZERO
        refunds.append(PreviousRefund(period, regime, raw.get("kind", "incremental"), amount))
    return tuple(refunds)


# --- writing -----------------------------------------------------------------------------------------------


def case_to_json(case: Case) -> dict:
    """The case as the contract's JSON object: money as text with two places (more only where the case has them),
    a key left out where the contract's default says the same."""
    data = {
        "application_period": str(case.application_period),
        "application_date": case.application_date.isoformat(),
        "taxpayer": _taxpayer_json(case.taxpayer),
        "compliance": _compliance_json(case.compliance),
        "returns": [_return_json(vat_return) for vat_return in case.returns],
        "adjustments": _adjustments_json(case),
        "previous_refunds": [_refund_json(refund) for refund in case.previous_refunds],
    }
    if case.options.stated:
        data["options"] = dict(case.options.stated)
    return data


def money_text(amount: Decimal) -> str:
    """Yuan as the contract writes them: ``"1234.50"``; an amount finer than the cent keeps its digits."""
    exponent = amount.as_tuple().exponent
    return f"{amount:.2f}" if isinstance(exponent, int) and exponent >= -2 else str(amount)


def _taxpayer_json(taxpayer: Taxpayer) -> dict:
    out: dict = {"credit_level": taxpayer.credit_level, "filing_frequency": taxpayer.filing_frequency}
    if taxpayer.general_taxpayer_since is not None:
        out["general_taxpayer_since"] = taxpayer.general_taxpayer_since.isoformat()
    if taxpayer.industry_code:
        out["industry_code"] = taxpayer.industry_code
    if taxpayer.size is not None:
        out["size"] = taxpayer.size
    if taxpayer.size_inputs is not None:
        out["size_inputs"] = _size_inputs_json(taxpayer.size_inputs)
    if taxpayer.sales_12m_by_industry:
        out["sales_12m_by_industry"] = {code: money_text(amount) for code, amount in taxpayer.sales_12m_by_industry}
    return out


def _size_inputs_json(inputs: SizeInputs) -> dict:
    out: dict = {}
    if inputs.industry is not None:
        out["industry"] = inputs.industry
    if inputs.prev_year_vat_sales is not None:
        out["prev_year_vat_sales"] = money_text(inputs.prev_year_vat_sales)
    if inputs.prev_year_months_operated is not None:
        out["prev_year_months_operated"] = inputs.prev_year_months_operated
    if inputs.total_assets_prev_year_end is not None:
        out["total_assets_prev_year_end"] = money_text(inputs.total_assets_prev_year_end)
    return out


def _compliance_json(compliance: Compliance) -> dict:
    return {
        "refund_fraud_or_false_invoice_dates": [
            day.isoformat() for day in compliance.refund_fraud_or_false_invoice_dates
        ],
        "tax_evasion_penalty_dates": [day.isoformat() for day in compliance.tax_evasion_penalty_dates],
        "immediate_refund_since_2019_04": compliance.immediate_refund_since_2019_04,
        "immediate_refund_repaid": compliance.immediate_refund_repaid,
    }


def _return_json(vat_return: VatReturn) -> dict:
    """A return; only the voucher kinds it has (a kind left out is 0)."""
    input_tax = vat_return.input_tax
    return {
        "period": str(vat_return.period),
        "end_credit": money_text(vat_return.end_credit),
        "input_tax": {kind: money_text(input_tax.amount(kind)) for kind in VOUCHER_KINDS if input_tax.amount(kind)},
    }


def _adjustments_json(case: Case) -> dict:
    """The adjustments belong to the tax period's return (国家税务总局公告2019年第20号 第九条): written with it, and
    whenever one is not 0; left empty otherwise."""
    adjustments = case.adjustments
    if adjustments == Adjustments() and case.return_for(case.tax_period) is None:
        return {}
    return {
        "approved_unbooked_export_refund": money_text(adjustments.approved_unbooked_export_refund),
        "vat_arrears": money_text(adjustments.vat_arrears),
    }


def _refund_json(refund: PreviousRefund) -> dict:
    return {
        "application_period": str(refund.application_period),
        "regime": refund.regime,
        "kind": refund.kind,
        "amount": money_text(refund.amount),
    }
