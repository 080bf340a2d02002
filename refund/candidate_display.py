"""How candidate lists speak to officers: condition and regime names, stage colours (UX.md: one colour, one meaning)."""

from .models import CandidateItem
from .rules.conditions import CONDITION_ORDER
from .rules.regimes import REGIMES

Stage = CandidateItem.Stage

# Short Chinese names of the condition codes (contracts/refund-assess.md, "Condition codes").
CONDITION_LABELS = {
    "credit_a_or_b": "纳税信用级别为A级或B级",
    "no_fraud_36m": "36个月内无骗取留抵退税、出口退税或虚开专票情形",
    "evasion_penalties_under_2_36m": "36个月内因偷税受处罚少于2次",
    "no_immediate_refund": "2019年4月起未享受即征即退、先征后返（退）或已全部缴回",
    "industry_share": "所列行业销售额占比超过50%",
    "size_small_micro": "属于小型或微型企业",
    "six_month_positive": "连续6个月（2个季度）留抵税额符合“大于零”要求",
    "sixth_month_500k": "第6个月的增量留抵税额不低于50万元",
    "window_not_reused": "计算期间未用于此前的留抵退税",
    "increment_positive": "期末留抵税额高于比较基数",
    "credit_positive": "期末留抵税额大于零",
    "input_deducted": "计算期间有已抵扣进项税额（进项构成比例可计算）",
}
assert set(CONDITION_LABELS) == set(CONDITION_ORDER)

REGIME_TITLES = {regime.code: regime.title for regime in REGIMES}

STAGE_TAGS = {
    Stage.LISTED: "tag-waiting",
    Stage.REMINDED: "tag-progress",
    Stage.DECLARED: "tag-progress",
    Stage.APPLIED: "tag-progress",
    Stage.REFUNDED: "tag-done",
    Stage.DECLINED: "tag-attention",
    Stage.INELIGIBLE: "tag-failed",
}

# The funnel in order: the data stages, then the two ways out.
FUNNEL = (
    ("listed", "已推送"),
    ("reminded", "已提醒"),
    ("declared", "已申报"),
    ("applied", "已申请"),
    ("refunded", "已退税"),
    ("declined", "放弃申请"),
    ("ineligible", "核实不符合"),
)


def regime_title(code: str) -> str:
    return REGIME_TITLES.get(code, code)


def condition_labels(codes) -> list[str]:
    return [CONDITION_LABELS.get(code, code) for code in codes]
