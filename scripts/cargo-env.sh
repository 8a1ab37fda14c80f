# Sourced by test.sh, demo.sh and bench.sh: one cargo target directory per clone, kept
# outside the clone so a rerun in the same place builds incrementally.
#
# Per clone, not shared between clones: cargo decides freshness by comparing source mtimes
# with its last build, so a build from another clone made after this one's last edit
# would be taken as fresh here and tests would run that other clone's code.
root="${root:?set root to the clone before sourcing cargo-env.sh}"
clone_key="$(printf '%s' "$root" | sha256sum | cut -c1-12)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/secinfra/target-$clone_key}"
