//! The `kms:` section.
