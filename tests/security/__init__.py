"""Attack tests: each plays an attack on a boundary end to end (docs/security.md)."""
