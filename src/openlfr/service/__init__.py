"""Long-running services of ``lfr serve``: the camera manager that runs recognition pipelines."""
