"""The camera service of ``lfr serve``: the camera registry (``registry``), the recognition supervisor that runs
one pipeline per live deployment (``supervisor``), and the health, preview and metrics of both (``monitor``)."""
