"""What the rules' JSON boundaries share (``refund_assess``, ``credit_assess``): the error that carries a
contract's code, the readers of plain JSON values with their Chinese messages, the options for points the law
leaves open, and parameters keyed by the date (or period) from which each value is in force.

Pure: the standard library and ``core.periods`` only, so the rules packages may stand on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Generic, TypeVar

from core.periods import Period


class ContractError(Exception):
    """Unusable input; ``code`` is one of the contract's ``codes``, ``message`` a Chinese sentence."""

    codes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, code: str, message: str) -> None:
        if code not in self.codes:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


class JsonReader:
    """Reads the values of a decoded JSON case, raising the rules' own error class. ``where`` names the value
    in the message (``taxpayer.size``, ``events[2].recorded_on``) so the caller can find it."""

    def __init__(self, error: type[ContractError]) -> None:
        self.error = error

    def load(self, text: str) -> object:
        """JSON text; floats become ``Decimal``, NaN and Infinity are refused."""
        try:
            return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise self.error("invalid_json", f"输入不是有效的 JSON：{exc}") from None

    def object(self, value: object, where: str, *, required: bool = False) -> dict:
        if value is None:
            if required:
                raise self.error("invalid_json", f"缺少 {where} 对象。")
            return {}
        if not isinstance(value, dict):
            raise self.error("invalid_json", f"{where} 必须是 JSON 对象。")
        return value

    def list(self, value: object, where: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error("invalid_json", f"{where} 必须是 JSON 数组。")
        return value

    def date(self, value: object, where: str) -> date:
        refusal = f"{where} 的值 {value!r} 不是有效的日期（应为 YYYY-MM-DD）。"
        if not isinstance(value, str) or len(value.strip()) != 10:
            raise self.error("invalid_date", refusal)
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise self.error("invalid_date", refusal) from None

    def period(self, value: object, where: str) -> Period:
        try:
            return Period.parse(value)
        except ValueError:
            raise self.error("invalid_period", f"{where} 的值 {value!r} 不是有效的所属期（应为 YYYY-MM）。") from None

    def boolean(self, value: object, where: str, default: bool = False) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error("invalid_json", f"{where} 必须是 true 或 false。")
        return value

    def number(self, value: object, where: str) -> Decimal:
        """A decimal string or a JSON number as a ``Decimal``; its range and sign are the caller's to check."""
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise self.error("invalid_amount", f"{where} 的值 {value!r} 不是有效的金额。")
        try:
            return Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
        except (InvalidOperation, ValueError):
            raise self.error("invalid_amount", f"{where} 的值 {value!r} 不是有效的金额。") from None


@dataclass(frozen=True)
class OptionSpec:
    """A point the law leaves open: the question, the readings a case may choose, and the documented default."""

    name: str
    title: str  # short Chinese name of the question, shown to officers
    question: str
    choices: dict[str, str]  # value -> what it means
    default: str


def check_option(specs: dict[str, OptionSpec], name: str, value: object, error: type[ContractError]) -> str:
    """``value`` of the option ``name``; an unknown name or value is refused (``unsupported``), never ignored."""
    spec = specs.get(name)
    if spec is None:
        raise error("unsupported", f"不支持的选项 {name}（可用选项：{'、'.join(specs)}）。")
    if value not in spec.choices:
        raise error("unsupported", f"选项 {name} 的值 {value!r} 不受支持（可选：{'、'.join(spec.choices)}）。")
    return value


K = TypeVar("K", date, Period)
T = TypeVar("T")


class NotCovered(Exception):
    """A parameter was looked up for a day (or period) none of its versions covers."""

    def __init__(self, name: str, key: date | Period) -> None:
        super().__init__(f"parameter {name} does not cover {key}")
        self.name = name
        self.key = key


@dataclass(frozen=True)
class Version(Generic[K, T]):
    """One value of a parameter, in force from ``valid_from`` to ``valid_to`` (inclusive; ``None``: open-ended),
    with the document that sets it."""

    valid_from: K
    valid_to: K | None
    value: T
    citation: str

    def covers(self, key: K) -> bool:
        return self.valid_from <= key and (self.valid_to is None or key <= self.valid_to)


@dataclass(frozen=True)
class Parameter(Generic[K, T]):
    """A rule's parameter as it changed over time. ``last_covered`` caps the open-ended version: beyond it the
    rules have not been checked and the parameter answers nothing."""

    name: str
    description: str
    versions: tuple[Version[K, T], ...]
    last_covered: K | None = None

    def __post_init__(self) -> None:
        # The version found for each key: the daily credit prediction asks the same few parameters for the same
        # few hundred days millions of times. The versions never change, so neither does the answer.
        object.__setattr__(self, "_found", {})

    def version_at(self, key: K) -> Version[K, T]:
        found = self._found.get(key)
        if found is not None:
            return found
        if self.last_covered is None or key <= self.last_covered:
            for version in self.versions:
                if version.covers(key):
                    self._found[key] = version
                    return version
        raise NotCovered(self.name, key)

    def at(self, key: K) -> T:
        return self.version_at(key).value

    def citation_at(self, key: K) -> str:
        return self.version_at(key).citation

    def covers(self, key: K) -> bool:
        try:
            self.version_at(key)
        except NotCovered:
            return False
        return True
