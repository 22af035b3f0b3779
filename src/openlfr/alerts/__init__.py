"""Alert decisions (pure rules), per-track evidence, the alert record, its durable store and sinks."""
