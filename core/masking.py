"""Masking of phone numbers and taxpayer identifiers: the one place that decides what a list shows.

Lists, exports and the API show masked values; the full value is shown only on the
detail page to roles holding ``taxpayers.view_taxpayer_contacts``, and that view is audited.
"""

MASK = "*"
# A fixed-width run of stars (9144********38216), so the mask itself does not tell 15, 18 and 20-character
# identifiers apart.
_ID_STARS = MASK * 8


def mask_mobile(value: str | None) -> str:
    """``13800138000`` -> ``138****8000``: keep the carrier prefix and the last four digits."""
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) >= 8:
        return f"{text[:3]}{MASK * 4}{text[-4:]}"
    # Too short to be a mobile number: show at most the last two characters.
    if len(text) <= 2:
        return MASK * len(text)
    return MASK * (len(text) - 2) + text[-2:]


def mask_identifier(value: str | None) -> str:
    """``914403001922038216`` -> ``9144********38216``.

    18 characters (统一社会信用代码): keep the first 4 (registration authority, kind, province) and the last 5
    (end of the organisation code and check character) — enough to tell taxpayers apart in a list.
    15 characters (old 税务登记证号): first 4 and last 4. 20 characters: first 4 and last 6. Anything else of
    at least 10 characters: first 3 and last 3; shorter values are masked entirely.
    """
    text = (value or "").strip()
    if not text:
        return ""
    keep = {18: (4, 5), 15: (4, 4), 20: (4, 6)}.get(len(text))
    if keep is None:
        keep = (3, 3) if len(text) >= 10 else (0, 0)
    head, tail = keep
    if not head and not tail:
        return MASK * len(text)
    return f"{text[:head]}{_ID_STARS}{text[-tail:]}"
