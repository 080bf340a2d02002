"""风险任务: risk tasks through the six stages of the closed loop (识别 → 分析 → 任务 → 应对 → 反馈 → 监控), their
assignment to the risk section or a branch, responses with evidence files, outcomes acting through the owning
apps (``outcomes``), the higher bureau's import and the push-down to branches. The models are in ``risk.models``."""
