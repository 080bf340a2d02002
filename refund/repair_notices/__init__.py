"""信用修复提示: taxpayers a screening failed only on their rating, told by SMS to repair it (refund → credit)."""
