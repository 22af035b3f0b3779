"""Reports (docs/GOVERNANCE.md): deployment records with the Met's published fields, the transparency report
over a period, and the facts a DPIA needs."""
