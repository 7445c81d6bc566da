#!/usr/bin/env bash
# Runs every fuzz target for a short time, seeded from fuzz/seeds/<target>.
#
#   fuzz/smoke.sh [SECONDS]        # default 20 s per target
#
# Needs cargo-fuzz (`cargo install --locked cargo-fuzz`). Uses `-s none`
# (no sanitizer), which works on the stable toolchain. Each target's corpus
# lives in fuzz/corpus/<target> (git-ignored) and starts from a copy of the
# committed seeds; crashes land in fuzz/artifacts/<target>. Exits non-zero
# if any target fails.
set -u

seconds="${1:-20}"
case "$seconds" in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS]" >&2
    exit 2
    ;;
esac

cd "$(dirname "$0")" || exit 2
targets=(envelope json statement digest pem provenance policy sbom bundle trusted_root x509 oci_manifest oci_index oci_layout store store_dir sbom_binary sbom_license purl bom_ref pkcs11_uri evidence_junit evidence_scan evidence_sarif evidence_vex oci_cosign provenance_match)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install --locked cargo-fuzz" >&2
    exit 2
fi

cargo fuzz build -s none || exit 1

failed=()
for target in "${targets[@]}"; do
    corpus="corpus/$target"
    mkdir -p "$corpus"
    if [ -d "seeds/$target" ]; then
        cp -f "seeds/$target"/* "$corpus"/
    fi
    echo "=== fuzz $target for ${seconds}s"
    if cargo fuzz run -s none "$target" "$corpus" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536; then
        echo "=== $target: ok"
    else
        echo "=== $target: FAILED (see fuzz/artifacts/$target)" >&2
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz smoke failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz smoke passed: ${targets[*]}"
