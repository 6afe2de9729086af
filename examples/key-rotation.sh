#!/usr/bin/env bash
# A key rotation across three releases, with trust root records
# (otatool-trust(1), otatool-root(5)), runnable:
#
#   release 1.0.0  root record v1: root keys A (a file) and B (inside a
#                  SoftHSM token), both needed to sign the next record;
#                  release key R1. The device is made with v1.
#   release 1.1.0  v2: release key R1 retired, R2 (generation 2) signs.
#                  The package carries v2: the device walks v1 -> v2.
#   release 1.2.0  R2 leaked. v3: R2 revoked for ever, root key A replaced
#                  by C, releases need two release keys (R3 and R4). The
#                  package carries v2 and v3: a device still at v1 (it was
#                  offline all year) catches up from the package alone.
#                  A release forged with the leaked R2 is refused.
#
# Also: OTATOOL (default build/otatool), SOFTHSM2_MODULE. Needs bash,
# openssl, git and softhsm2-util. Exits non-zero if any step does not give
# the expected result; removes everything it made.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

OTATOOL=${OTATOOL:-$root/build/otatool}
case $OTATOOL in
/*) ;;
*/*) OTATOOL=$PWD/$OTATOOL ;;
esac

step=0
say() { step=$((step + 1)); printf '\n==> %d. %s\n' "$step" "$*"; }
die() { printf 'key-rotation: %s\n' "$*" >&2; exit 1; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }
# expect STATUS CMD...: CMD must exit with STATUS (otatool(1)).
expect() {
	local want=$1 status=0
	shift
	printf '+ %s\n' "$*" >&2
	"$@" || status=$?
	[ "$status" = "$want" ] ||
		die "$(basename "$1") ${2:-}: expected exit status $want, got $status"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/otatool-rotation.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'echo "key-rotation: step $step failed" >&2' ERR

command -v "$OTATOOL" >/dev/null ||
	die "$OTATOOL not found: run scripts/build, or set OTATOOL"
for tool in openssl softhsm2-util; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done
ota() { run "$OTATOOL" "$@"; }

# ---------------------------------------------------------------------------
say "keys: root A in a file, root B in a token, release keys in files"
module=${SOFTHSM2_MODULE:-}
for m in /usr/lib/softhsm/libsofthsm2.so \
	/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
	/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -n "$module" ] && break
	[ -f "$m" ] && module=$m
done
[ -n "$module" ] || die "libsofthsm2.so not found: set SOFTHSM2_MODULE"
mkdir "$work/tokens" "$work/keys"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$work/tokens" >"$work/softhsm2.conf"
export SOFTHSM2_CONF=$work/softhsm2.conf OTATOOL_PKCS11_MODULE=$module
OTATOOL_PKCS11_PIN=$(openssl rand -hex 8)
export OTATOOL_PKCS11_PIN
softhsm2-util --init-token --free --label fleet-root \
	--pin "$OTATOOL_PKCS11_PIN" --so-pin "$(openssl rand -hex 8)" >/dev/null
B='pkcs11:token=fleet-root;object=root-b'
K=$work/keys
ota keys generate --type ecdsa-p256 --key "$B"
for k in root-a root-c rel-1 rel-2 rel-3 rel-4; do
	ota keys generate -q --type ecdsa-p256 --key "$K/$k.pem" >/dev/null
done
keyid() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -c1-64; }

# The release: examples/release.yaml and its images, in a git repository.
rel=$work/release
mkdir "$rel"
cp "$here/release.yaml" "$rel/"
cp -R "$here/images" "$rel/"
git -C "$rel" init -q -b main
git -C "$rel" -c user.name=example -c user.email=example@example.invalid \
	add -A
git -C "$rel" -c user.name=example -c user.email=example@example.invalid \
	-c commit.gpgsign=false commit -q -m release
commit=$(git -C "$rel" rev-parse HEAD)
export SOURCE_DATE_EPOCH=1767225600
# release VERSION OUT KEY... [-- RECORD...]: a package of that version
release() {
	local version=$1 out=$2 args=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=(--key "$1")
		shift
	done
	[ $# -gt 0 ] && shift
	for r; do args+=(--root-record "$r"); done
	ota manifest -q --git-commit "$commit" --release-version "$version" \
		-o "$rel/manifest-$version.json" "$rel/release.yaml"
	ota package -q "${args[@]}" -o "$out" "$rel/manifest-$version.json"
}
R=$work/records
P=$work/packages
mkdir "$R" "$P"

# ---------------------------------------------------------------------------
say "release 1.0.0: root record v1 (A and B, both needed), release key R1"
ota trust init --root-key "$K/root-a.pub.pem" --root-key "$B" \
	--root-threshold 2 --release-key "$K/rel-1.pub.pem" \
	--key "$K/root-a.pem" --key "$B" -o "$R/root-1.otar"
ota trust show "$R/root-1.otar"
release 1.0.0 "$P/fw-1.0.0.otapkg" "$K/rel-1.pem" -- "$R/root-1.otar"
echo "the device is made with root-1.otar"
ota verify --root "$R/root-1.otar" --hardware acme-sensor-rev-b \
	"$P/fw-1.0.0.otapkg"

# ---------------------------------------------------------------------------
say "release 1.1.0: v2 retires R1 for R2 (generation 2); A signs, then B"
# Two people, two steps: A's holder makes v2, B's holder (the token) adds
# the second signature; the rotation is not valid until both signed.
ota trust rotate "$R/root-1.otar" --remove-key "$K/rel-1.pub.pem" \
	--release-key "$K/rel-2.pub.pem" --key "$K/root-a.pem" --partial \
	-o "$R/root-2.partial"
expect 5 "$OTATOOL" trust show --previous "$R/root-1.otar" "$R/root-2.partial"
ota trust sign "$R/root-2.partial" --previous "$R/root-1.otar" --key "$B" \
	-o "$R/root-2.otar"
release 1.1.0 "$P/fw-1.1.0.otapkg" "$K/rel-2.pem" -- "$R/root-2.otar"
echo "the device still holds v1; the package carries v2:"
ota verify --root "$R/root-1.otar" "$P/fw-1.1.0.otapkg"
expect 5 "$OTATOOL" verify -q --root "$R/root-2.otar" "$P/fw-1.0.0.otapkg"
echo "and under v2 the retired R1 signs nothing: 1.0.0 refused (status 5)"

# ---------------------------------------------------------------------------
say "release 1.2.0: R2 leaked. v3 revokes it, C replaces root A, two release keys"
ota trust revoke "$R/root-2.otar" --revoke-key "$(keyid "$K/rel-2.pub.pem")" \
	--remove-key "$K/root-a.pub.pem" --root-key "$K/root-c.pub.pem" \
	--release-key "$K/rel-3.pub.pem" --release-key "$K/rel-4.pub.pem" \
	--release-threshold 2 --key "$K/root-a.pem" --key "$B" \
	--key "$K/root-c.pem" -o "$R/root-3.otar"
ota trust show --previous "$R/root-2.otar" "$R/root-3.otar"
release 1.2.0 "$P/fw-1.2.0.otapkg" "$K/rel-3.pem" "$K/rel-4.pem" -- \
	"$R/root-2.otar" "$R/root-3.otar"
echo "a device offline since 1.0.0 (still at v1) catches up from the package:"
ota verify --root "$R/root-1.otar" "$P/fw-1.2.0.otapkg"

say "what the thief of R2 cannot do"
release 1.2.1 "$P/forged.otapkg" "$K/rel-2.pem" -- "$R/root-2.otar" \
	"$R/root-3.otar"
expect 5 "$OTATOOL" verify --root "$R/root-1.otar" "$P/forged.otapkg"
echo "a release signed by the revoked R2 is refused (status 5)"
release 1.2.2 "$P/one-key.otapkg" "$K/rel-3.pem" -- "$R/root-2.otar" \
	"$R/root-3.otar"
expect 5 "$OTATOOL" verify -q --root "$R/root-1.otar" "$P/one-key.otapkg"
echo "one release key is not enough under v3 (threshold 2): refused (status 5)"
expect 5 "$OTATOOL" verify -q --root "$R/root-1.otar" --root "$R/root-3.otar" \
	"$P/fw-1.0.0.otapkg"
echo "v3 cannot be reached without v2 (a skipped version): refused (status 5)"

printf '\nkey rotation across three releases: done\n'
