//! The `secrets:` section.
