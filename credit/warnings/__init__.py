"""信用预警: the daily prediction of every taxpayer's rating for the current year, the graded lists built on it
(A/B at risk of dropping, C/D to follow, what each can still repair) and the stepped outreach (SMS, call, visit)."""
