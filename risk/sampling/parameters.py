"""The monthly sample's parameters (抽样参数): what risk officers set, with the defaults that hold until they do.

Focus industries are agriculture and commerce (A 农、林、牧、渔业, F 批发和零售业), as the province's post-refund
review names them; a refund there above 500,000 元 is always reviewed, as are the ten largest of the month and 5%
of the rest at random.
"""

from __future__ import annotations

from decimal import Decimal

from ..indicators import Kind, Parameter
from .draw import SampleRules

PARAMETERS: tuple[Parameter, ...] = (
    Parameter("focus_sections", "重点行业门类", "", "A,F", Kind.SECTIONS),
    Parameter("focus_threshold", "重点行业退税额超过", "元", "500000"),
    Parameter("largest", "当月退税额最大的笔数", "笔", "10"),
    Parameter("random_pct", "其余退税随机抽取比例", "%", "5"),
)
WHOLE = ("largest",)


def parameter_get(name: str) -> Parameter:
    """The parameter of ``name``; ``KeyError`` for one the sample does not have."""
    for parameter in PARAMETERS:
        if parameter.name == name:
            return parameter
    raise KeyError(name)


def normalised(name: str, text: str) -> str:
    """The value as stored; ``ValueError`` with the Chinese message the form shows."""
    parameter = parameter_get(name)
    stored = parameter.normalised(text)
    if name in WHOLE and Decimal(stored) != Decimal(stored).to_integral_value():
        raise ValueError(f"{parameter.label}应为整数。")
    if name == "random_pct" and Decimal(stored) > 100:
        raise ValueError(f"{parameter.label}不能超过100%。")
    return stored


def rules_of(values: dict[str, Decimal | tuple[str, ...]]) -> SampleRules:
    """The draw's rules from parsed values by name."""
    return SampleRules(
        focus_sections=tuple(values["focus_sections"]),
        focus_threshold=Decimal(values["focus_threshold"]),
        largest=int(values["largest"]),
        random_pct=Decimal(values["random_pct"]),
    )
