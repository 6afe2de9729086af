#!/usr/bin/env bash
# An encrypted release: the firmware is someone's intellectual property, so
# the package carries no byte of it in the clear (otatool-package(5),
# ENCRYPTION; otatool-encryption(7)).
#
#   - the devices of the fleet share an X25519 recipient key, made with
#     `otatool keys generate --type x25519` (its private half is
#     provisioned into the devices);
#   - the field-service laptop keeps its own recipient key in a token (a
#     P-256 key that allows ECDH derivation, non-extractable), exported
#     with `otatool keys export-public`.
#
# Steps: make the keys; package the release for both recipients
# (--encrypt-key twice, AES-256, compressed); check that no plaintext
# byte made it into the package; inspect it (recipients by key id);
# verify without any key (signatures and stored digests: the plaintext is
# not checked, and the report says who can decrypt); extract with the
# fleet key and with the token key (decrypted inside the token) and
# compare with the images; show that a key which is no recipient is
# refused and nothing written.
#
# The token is a SoftHSM token in a temporary directory here. Also:
# OTATOOL (default build/otatool), SOFTHSM2_MODULE (if libsofthsm2.so is
# not found). Needs bash, openssl, od, softhsm2-util and pkcs11-tool.
# Exits non-zero at the first unexpected status; removes everything.
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
die() { printf 'encrypted-release: %s\n' "$*" >&2; exit 1; }

# expect STATUS CMD...: runs CMD (shown first), stops unless it exits with
# STATUS (otatool(1), EXIT STATUS).
expect() {
	local want=$1 status=0
	shift
	printf '+ %s\n' "$*" >&2
	"$@" || status=$?
	[ "$status" = "$want" ] ||
		die "$(basename "$1") ${2:-}: expected exit status $want, got $status"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/otatool-encrypted.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'echo "encrypted-release: step $step failed" >&2' ERR
cd "$work"

# ---------------------------------------------------------------------------
say "tools"
command -v "$OTATOOL" >/dev/null ||
	die "$OTATOOL not found: run scripts/build, or set OTATOOL"
for tool in openssl od softhsm2-util pkcs11-tool; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done
expect 0 "$OTATOOL" --version

# ---------------------------------------------------------------------------
say "the keys: a signing key, the fleet's X25519 key, a service key in a token"
expect 0 "$OTATOOL" keys generate -q --type ecdsa-p256 --key sign.pem \
	--public sign.pub.pem >/dev/null
fleet_id=$("$OTATOOL" keys generate -q --type x25519 --key fleet.pem \
	--public fleet.pub.pem)
echo "fleet key id $fleet_id"
module=${SOFTHSM2_MODULE:-}
for m in /usr/lib/softhsm/libsofthsm2.so \
	/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
	/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
	/usr/lib64/pkcs11/libsofthsm2.so /usr/lib/pkcs11/libsofthsm2.so \
	/usr/local/lib/softhsm/libsofthsm2.so \
	/opt/homebrew/lib/softhsm/libsofthsm2.so; do
	[ -n "$module" ] && break
	[ -f "$m" ] && module=$m
done
[ -n "$module" ] || die "libsofthsm2.so not found: set SOFTHSM2_MODULE"
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$work" >softhsm2.conf
export SOFTHSM2_CONF=$work/softhsm2.conf
export OTATOOL_PKCS11_MODULE=$module
# At a laptop the PIN is typed: unset, otatool asks for it without echo.
OTATOOL_PKCS11_PIN=$(openssl rand -hex 8)
export OTATOOL_PKCS11_PIN
so_pin=$(openssl rand -hex 8)
softhsm2-util --init-token --free --label service \
	--pin "$OTATOOL_PKCS11_PIN" --so-pin "$so_pin" >/dev/null
unset so_pin
# X25519 keys cannot be made in SoftHSM 2.6 (otatool-keys(1)): the token's
# recipient key is P-256 with CKA_DERIVE, made with the token's own tool.
echo "+ pkcs11-tool --token-label service --keypairgen --key-type EC:prime256v1 --usage-derive" >&2
pkcs11-tool --module "$module" --token-label service --login \
	--pin env:OTATOOL_PKCS11_PIN --keypairgen --key-type EC:prime256v1 \
	--label svc-ec --id 01 --usage-derive >/dev/null 2>&1
svc='pkcs11:token=service;object=svc-ec'
expect 0 "$OTATOOL" keys export-public "$svc" -o service.pub.pem
expect 7 "$OTATOOL" keys generate -q --type x25519 \
	--key 'pkcs11:token=service;object=x'

# ---------------------------------------------------------------------------
say "the release, packaged for both recipients"
mkdir images
cp "$here"/images/*.bin images/
cat >release.yaml <<'EOF'
name: acme-sensor-fw
version: 2.5.0
hardware: [acme-sensor-rev-b, acme-sensor-rev-c]
security_counter: 8
images:
  - name: mcuboot
    kind: bootloader
    file: images/bootloader.bin
  - name: app
    kind: application
    file: images/app.bin
  - name: settings
    kind: config
    file: images/config.bin
git:
  commit: 0123456789abcdef0123456789abcdef01234567
EOF
expect 0 "$OTATOOL" package --key sign.pem --compress \
	--encrypt-key fleet.pub.pem --encrypt-key "$svc" --encrypt-keylen 256 \
	-o release.otapkg release.yaml

# ---------------------------------------------------------------------------
say "no plaintext in the package"
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }
pkg_hex=$(hex release.otapkg)
for img in images/*.bin; do
	probe=$(head -c 24 "$img" >probe && hex probe)
	case $pkg_hex in
	*"$probe"*) die "$img shows in the package" ;;
	esac
done
grep -qF sample_rate_hz release.otapkg && die "the settings show"
echo "no image's first 24 bytes, and no settings text, in release.otapkg"

# ---------------------------------------------------------------------------
say "inspect: every image encrypted, two recipients by key id"
expect 0 "$OTATOOL" inspect release.otapkg | tee inspect.txt
grep -q "ecies-x25519        key id $fleet_id" inspect.txt ||
	die "the fleet key is not a recipient"

# ---------------------------------------------------------------------------
say "verify without a key: everything but the plaintext"
expect 0 "$OTATOOL" verify --trust-key sign.pub.pem release.otapkg | tee verify.txt
grep -q "plaintext not checked" verify.txt || die "no word on the plaintext"

# ---------------------------------------------------------------------------
say "extract on a device (fleet key) and on the service laptop (token)"
expect 0 "$OTATOOL" extract --trust-key sign.pub.pem --decrypt-key fleet.pem \
	-o device release.otapkg
expect 0 "$OTATOOL" extract --trust-key sign.pub.pem --decrypt-key "$svc" \
	-o laptop release.otapkg
for name in mcuboot:bootloader app:app settings:config; do
	cmp "device/${name%%:*}.bin" "images/${name#*:}.bin"
	cmp "laptop/${name%%:*}.bin" "images/${name#*:}.bin"
done
echo "both decrypted every image to the bytes that were released"

# ---------------------------------------------------------------------------
say "a key that is no recipient is refused, and nothing written"
expect 0 "$OTATOOL" keys generate -q --type x25519 --key stranger.pem \
	--public stranger.pub.pem >/dev/null
expect 5 "$OTATOOL" extract --trust-key sign.pub.pem --decrypt-key stranger.pem \
	-o stranger release.otapkg
[ ! -e stranger ] || die "something was written"
expect 2 "$OTATOOL" extract --trust-key sign.pub.pem -o nokey release.otapkg
[ ! -e nokey ] || die "something was written"

echo
echo "encrypted release verified and extracted by both recipients"
