"""Deployments (docs/GOVERNANCE.md): the authorised, time-boxed use of a watchlist snapshot on named cameras,
with the threshold policy, and the scheduler that lets recognition run only inside one."""
