"""Test infrastructure shared across the mirrored test folders: fixtures (registered in the root conftest),
fakes of external services and helpers."""
