"""The service layer: one call per user action, one transaction each."""
