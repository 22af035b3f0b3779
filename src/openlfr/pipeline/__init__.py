"""The live processing core: camera readers, the shared model runner, and the composition root."""
