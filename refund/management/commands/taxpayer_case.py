"""``python manage.py taxpayer_case IDENTIFIER PERIOD [--date YYYY-MM-DD] [--option NAME=VALUE]``

Prints one taxpayer's refund case (the JSON ``refund_assess`` reads) from its data in the database —
exactly what the explanation page assesses — so that

    python manage.py taxpayer_case 91330106MA0000001X 2026-03 | python manage.py refund_assess -

reproduces the page's figures. ``--credit-level`` and ``--immediate-repaid`` reproduce the what-if panel.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from core.periods import Period
from refund.rules import case_to_json
from refund.rules.options import OPTION_SPECS
from refund.screening.case_builder import taxpayer_case
from taxpayers.models import CreditLevel, Taxpayer
from taxpayers.validators import normalise_taxpayer_id


def _period(value: str) -> Period:
    try:
        return Period.parse(value)
    except ValueError:
        raise CommandError(f"所属期“{value}”无效，应为 YYYY-MM，如 2026-03。") from None


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date “{value}” 不是有效日期，应为 YYYY-MM-DD。") from None


def _option(value: str) -> tuple[str, str]:
    name, sep, choice = value.partition("=")
    spec = OPTION_SPECS.get(name)
    if not sep or spec is None:
        raise CommandError(f"--option “{value}” 无效，应为 名称=取值，名称可选：{'、'.join(OPTION_SPECS)}。")
    if choice not in spec.choices:
        raise CommandError(f"选项 {name} 的取值“{choice}”无效，可选：{'、'.join(spec.choices)}。")
    return name, choice


class Command(BaseCommand):
    help = "输出一户纳税人的留抵退税测算案例 JSON（与 refund_assess 的输入格式相同），用于复核测算说明页。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("identifier", help="纳税人识别号")
        parser.add_argument("period", help="申请退税所属期 YYYY-MM")
        parser.add_argument("--date", help="假定申请日期 YYYY-MM-DD（默认为所属期的第一天）")
        parser.add_argument(
            "--option", action="append", default=[], metavar="NAME=VALUE", help="规则选项，可重复（默认取文档默认值）"
        )
        parser.add_argument("--credit-level", choices=CreditLevel.values, help="假设测算：另一个纳税信用级别")
        parser.add_argument("--immediate-repaid", action="store_true", help="假设测算：即征即退已一次性缴回")

    def handle(self, *args, **options) -> None:
        period = _period(options["period"])
        day = _date(options["date"]) if options["date"] else None
        if day is not None and Period.of(day) != period:
            raise CommandError(f"--date {day.isoformat()} 不在申请退税所属期 {period} 内。")
        rule_options = dict(_option(value) for value in options["option"])
        identifier = normalise_taxpayer_id(options["identifier"])
        taxpayer_id = Taxpayer.objects.filter(identifier=identifier).values_list("pk", flat=True).first()
        if taxpayer_id is None:
            raise CommandError(f"没有识别号为 {identifier} 的纳税人。")
        case = taxpayer_case(
            taxpayer_id=taxpayer_id,
            application_period=period,
            application_date=day,
            options=rule_options or None,
            credit_level=options["credit_level"],
            immediate_repaid=True if options["immediate_repaid"] else None,
        )
        self.stdout.write(json.dumps(case_to_json(case), ensure_ascii=False, indent=1))
