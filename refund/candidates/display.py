"""What is particular to candidate lists: stage colours (one colour, one meaning) and the funnel.

Regime and condition titles come from the one label table, ``refund.labels``.
"""

from ..models import CandidateItem

Stage = CandidateItem.Stage

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
