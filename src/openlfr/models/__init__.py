"""Model files: where they are, their digests, and loading them into onnxruntime."""
