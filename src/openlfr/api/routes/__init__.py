"""One router per resource. Every route declares its permission with ``dependencies=[require(...)]``."""
