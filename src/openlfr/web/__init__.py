"""The operator console: static HTML, CSS and JavaScript served by the API app (no build step).

The files hold no data: every figure, face and name comes from the authenticated API, so serving them to
anyone leaks nothing. No inline script or style anywhere (the CSP forbids both).
"""
