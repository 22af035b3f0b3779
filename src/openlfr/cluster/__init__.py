"""Recognition workers on other machines (docs/SCALING.md): live deployments' cameras run as Ray actors on
worker nodes, while ``lfr serve`` (the control plane) keeps the database, the audit chain and every decision.

``pool`` is the seam (a small Protocol), ``fake`` its deterministic in-process stand-in for unit tests,
``ray_pool`` and ``actors`` the Ray implementation (imported only when the ``cluster`` settings section is set),
``node`` how a Ray node of this cluster is started (no telemetry, no dashboard, token authentication, every file
inside the data folder), ``supervisor`` the recognition supervisor of ``lfr serve`` in cluster mode.
"""
