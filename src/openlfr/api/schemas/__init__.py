"""Request and response models, one module per resource: ``<Thing>Create`` / ``<Thing>Update`` in,
``<Thing>Public`` out. Inputs forbid unknown fields; secrets are ``SecretStr`` so they never print."""
