"""事后复核 (post-refund review, "the last net"): each month, the refunds paid the month before are scanned with the
indicator library and a sample of them is drawn for review — every refund in a focus industry above a threshold,
every one with 即征即退 history, the largest, and a seeded random share of the rest — and recorded (seed,
parameters, population, each refund with its reasons) so the draw can be made again with the same result.

``draw`` (the pure draw), ``parameters`` (what risk officers set), ``selectors``, ``services``, ``views``; the
models are ``risk.models.sampling`` and the beat task ``risk.jobs.monthly_sample``.
"""
