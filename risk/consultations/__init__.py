"""集体会商 (collective consultation) of high-risk refund applications: opened by a risk officer with a reason, the
policy (税政), legal (法制), risk (风险) and branch (分局) sections give their opinions, the host records the minutes
and the decision, and the decision moves the application through refund's services. ``resolver`` tells refund's
approval whether a consultation allows it (registered by ``risk.apps``)."""
