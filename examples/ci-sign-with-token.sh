#!/usr/bin/env bash
# A CI signing job for otatool, step by step: build the manifest of
# examples/release.yaml, sign it with a key that lives in a PKCS#11 token,
# export the public key, and check the signature with openssl alone.
#
# In CI, the token is provided and the job is given:
#   OTATOOL_PKCS11_MODULE  the token's PKCS#11 module (shared library)
#   OTATOOL_PKCS11_PIN     the user PIN, from a masked CI secret; never put
#                          it on a command line or in a pkcs11: URI
#   SIGN_TOKEN, SIGN_KEY   token label and key label (default: release and
#                          fw-release); the key is made on the first run
# Without OTATOOL_PKCS11_MODULE it makes a throwaway SoftHSM token in a
# temporary directory, with a random PIN, so that it runs anywhere
# softhsm2-util is installed (set SOFTHSM2_MODULE if the module is not
# found).
#
# Also: OTATOOL (default build/otatool), SOURCE_DATE_EPOCH (default: the
# commit's time), ARTIFACTS (a directory to copy the signed manifest and
# public key into). Needs bash, openssl and base64; jq if present.
# Exits non-zero on the first failure; removes everything it made.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

OTATOOL=${OTATOOL:-$root/build/otatool}
case $OTATOOL in
/*) ;;
*/*) OTATOOL=$PWD/$OTATOOL ;;
esac
SIGN_TOKEN=${SIGN_TOKEN:-release}
SIGN_KEY=${SIGN_KEY:-fw-release}
key_uri="pkcs11:token=$SIGN_TOKEN;object=$SIGN_KEY"

step=0
say() { step=$((step + 1)); printf '\n==> %d. %s\n' "$step" "$*"; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }
die() { printf 'ci-sign-with-token: %s\n' "$*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/otatool-ci.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'echo "ci-sign-with-token: step $step failed" >&2' ERR

# One field of a JSON document: jq if it is installed; otherwise the
# fixed layout otatool writes (otatool-signature(5): one key per line,
# two-space indentation) is enough for the fields read here.
json_field() { # FILE FIELD (.payload, .signatures[0].sig, ...)
	if command -v jq >/dev/null; then
		jq -er "$2" "$1"
		return
	fi
	local key=${2##*.}
	sed -n "s/^ *\"$key\": \"\\(.*\\)\",\{0,1\}\$/\\1/p" "$1" | head -n 1 |
		grep .
}

# ---------------------------------------------------------------------------
say "otatool binary"
command -v "$OTATOOL" >/dev/null ||
	die "$OTATOOL not found: run scripts/build, or set OTATOOL"
command -v openssl >/dev/null || die "openssl is needed for the check"
run "$OTATOOL" --version

# ---------------------------------------------------------------------------
if [ -n "${OTATOOL_PKCS11_MODULE:-}" ]; then
	say "token: $SIGN_TOKEN through $OTATOOL_PKCS11_MODULE (from CI)"
	[ -n "${OTATOOL_PKCS11_PIN:-}" ] ||
		die "OTATOOL_PKCS11_PIN is not set: give the PIN as a CI secret"
else
	say "no token given: a throwaway SoftHSM token in $work/tokens"
	command -v softhsm2-util >/dev/null ||
		die "softhsm2-util not found: install SoftHSM, or set OTATOOL_PKCS11_MODULE"
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
	mkdir "$work/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$work/tokens" >"$work/softhsm2.conf"
	export SOFTHSM2_CONF=$work/softhsm2.conf
	export OTATOOL_PKCS11_MODULE=$module
	# What a CI secret would hold; random, and never on a command line
	# of otatool (softhsm2-util has no other way to take it).
	export OTATOOL_PKCS11_PIN=${OTATOOL_PKCS11_PIN:-$(openssl rand -hex 8)}
	so_pin=$(openssl rand -hex 8)
	echo "+ softhsm2-util --init-token --free --label $SIGN_TOKEN --pin *** --so-pin ***" >&2
	softhsm2-util --init-token --free --label "$SIGN_TOKEN" \
		--pin "$OTATOOL_PKCS11_PIN" --so-pin "$so_pin" >/dev/null
	unset so_pin
fi
echo "module: $OTATOOL_PKCS11_MODULE"
echo "PIN:    from OTATOOL_PKCS11_PIN (${#OTATOOL_PKCS11_PIN} characters, not shown)"

# ---------------------------------------------------------------------------
say "release key $SIGN_KEY inside the token"
# A token key is made once and kept; otatool never overwrites one. A
# failed listing (wrong PIN, no such token) stops here: trying again with
# the same PIN would only spend the token's retry counter.
run "$OTATOOL" keys list --json "$key_uri;type=private" >"$work/list.json"
if grep -q '"class": "private-key"' "$work/list.json"; then
	echo "already there: using it"
else
	run "$OTATOOL" keys generate --type ecdsa-p256 --key "$key_uri"
fi
run "$OTATOOL" keys list "pkcs11:token=$SIGN_TOKEN;object=$SIGN_KEY"

# ---------------------------------------------------------------------------
say "manifest of examples/release.yaml"
# The manifest goes beside the release file, where otatool sign finds the
# images again to re-hash them: copy both into the work directory.
mkdir "$work/release"
cp "$here/release.yaml" "$work/release/"
cp -R "$here/images" "$work/release/"
if git -C "$root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	commit=$(git -C "$root" rev-parse HEAD)
	: "${SOURCE_DATE_EPOCH:=$(git -C "$root" log -1 --format=%ct HEAD)}"
	echo "git: $commit (from $root)"
else
	commit=0123456789abcdef0123456789abcdef01234567
	: "${SOURCE_DATE_EPOCH:=1700000000}"
	echo "git: not a repository; recording a placeholder commit"
fi
export SOURCE_DATE_EPOCH
echo "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
run "$OTATOOL" manifest --git-commit "$commit" \
	-o "$work/release/manifest.json" "$work/release/release.yaml"

# ---------------------------------------------------------------------------
say "sign with $key_uri"
status=0
run "$OTATOOL" sign --key "$key_uri" "$work/release/manifest.json" || status=$?
case $status in
0) ;;
5) die "an image changed after the manifest was made (status 5)" ;;
7) die "key, PIN or token problem (status 7)" ;;
*) die "otatool sign failed (status $status)" ;;
esac
signed=$work/release/manifest.signed.json

# ---------------------------------------------------------------------------
say "public key, for devices and verifiers"
run "$OTATOOL" keys export-public "$key_uri" -o "$work/release.pub.pem"
cat "$work/release.pub.pem"

# ---------------------------------------------------------------------------
say "independent check with openssl (otatool-signature(5))"
json_field "$signed" .payload | base64 -d >"$work/payload"
cmp "$work/payload" "$work/release/manifest.json"
echo "payload: the manifest's exact bytes ($(wc -c <"$work/payload") bytes)"

type=application/vnd.otatool.manifest+json
[ "$(json_field "$signed" .payloadType)" = "$type" ]
prefix=$(printf 'DSSEv1 %d %s %d ' ${#type} "$type" "$(wc -c <"$work/payload")")
printf '%s' "$prefix" >"$work/pae"
cat "$work/payload" >>"$work/pae"
echo "PAE: \"$prefix\" followed by the payload"
# The same bytes otatool would hand to a signer in two-step signing.
"$OTATOOL" sign -q --key "$work/release.pub.pem" \
	--export-payload "$work/pae.otatool" "$work/release/manifest.json"
cmp "$work/pae" "$work/pae.otatool"

algorithm=$(json_field "$signed" '.signatures[0].algorithm')
[ "$algorithm" = ecdsa-p256-sha256 ] || die "unexpected algorithm $algorithm"
keyid=$(openssl pkey -pubin -in "$work/release.pub.pem" -outform DER |
	openssl dgst -sha256 -r | cut -d' ' -f1)
[ "$(json_field "$signed" '.signatures[0].keyid')" = "$keyid" ] ||
	die "the key id in the signed manifest is not this key's"
echo "key id: $keyid ($algorithm)"

json_field "$signed" '.signatures[0].sig' | base64 -d >"$work/sig"
run openssl dgst -sha256 -verify "$work/release.pub.pem" \
	-signature "$work/sig" "$work/pae"

# A check that cannot fail checks nothing: one changed byte must fail it.
cp "$work/pae" "$work/pae.tampered"
printf 'X' | dd of="$work/pae.tampered" bs=1 seek=100 conv=notrunc 2>/dev/null
if openssl dgst -sha256 -verify "$work/release.pub.pem" \
	-signature "$work/sig" "$work/pae.tampered" >/dev/null 2>&1; then
	die "a tampered manifest verified"
fi
echo "a tampered manifest is rejected"

# ---------------------------------------------------------------------------
if [ -n "${ARTIFACTS:-}" ]; then
	say "artifacts to $ARTIFACTS"
	mkdir -p "$ARTIFACTS"
	run cp "$signed" "$work/release.pub.pem" "$ARTIFACTS/"
fi

printf '\nsigned manifest verified: %s\n' "$keyid"
