#!/usr/bin/env bash
# A release signed through a certificate chain, step by step: a small CA
# (root -> intermediate -> signer) made with the openssl CLI, the signer's
# key generated inside a PKCS#11 token and never leaving it, the chain
# checked with `otatool chain check`, then the manifest of
# examples/release.yaml signed with the certificate and its chain, packaged,
# and verified as a device would: trusting only the root certificate.
#
# Settings, all optional:
#   OTATOOL                the otatool binary (default build/otatool)
#   OTATOOL_PKCS11_MODULE  a token's PKCS#11 module; unset: a throwaway
#                          SoftHSM token is made in a temporary directory
#   OTATOOL_PKCS11_PIN     its user PIN (required with the module)
#   SIGN_TOKEN, SIGN_KEY   token label and key label (default release-ca and
#                          fw-signer); the key is made when it is missing
#   SOFTHSM2_MODULE        where libsofthsm2.so is, if not in a usual place
# Needs bash, openssl, base64, and softhsm2-util when no token is given.
# Exits non-zero on the first failure; removes everything it made. The CA
# is a development CA: its keys live in the temporary directory and die
# with it. A real root key belongs offline, the intermediate's in an HSM.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

OTATOOL=${OTATOOL:-$root/build/otatool}
case $OTATOOL in
/*) ;;
*/*) OTATOOL=$PWD/$OTATOOL ;;
esac
SIGN_TOKEN=${SIGN_TOKEN:-release-ca}
SIGN_KEY=${SIGN_KEY:-fw-signer}
key_uri="pkcs11:token=$SIGN_TOKEN;object=$SIGN_KEY"

step=0
say() { step=$((step + 1)); printf '\n==> %d. %s\n' "$step" "$*"; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }
die() { printf 'release-with-ca: %s\n' "$*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/otatool-ca.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'echo "release-with-ca: step $step failed" >&2' ERR
cd "$work"

# ---------------------------------------------------------------------------
say "otatool binary"
command -v "$OTATOOL" >/dev/null ||
	die "$OTATOOL not found: run scripts/build, or set OTATOOL"
command -v openssl >/dev/null || die "openssl is needed to make the CA"
run "$OTATOOL" --version

# ---------------------------------------------------------------------------
if [ -n "${OTATOOL_PKCS11_MODULE:-}" ]; then
	say "token: $SIGN_TOKEN through $OTATOOL_PKCS11_MODULE"
	[ -n "${OTATOOL_PKCS11_PIN:-}" ] ||
		die "OTATOOL_PKCS11_PIN is not set: give the token's PIN"
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
	mkdir tokens
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$work/tokens" >softhsm2.conf
	export SOFTHSM2_CONF=$work/softhsm2.conf
	export OTATOOL_PKCS11_MODULE=$module
	# otatool reads the PIN from the environment, never from its command
	# line; softhsm2-util has no other way to take it.
	export OTATOOL_PKCS11_PIN=${OTATOOL_PKCS11_PIN:-$(openssl rand -hex 8)}
	so_pin=$(openssl rand -hex 8)
	echo "+ softhsm2-util --init-token --free --label $SIGN_TOKEN --pin *** --so-pin ***" >&2
	softhsm2-util --init-token --free --label "$SIGN_TOKEN" \
		--pin "$OTATOOL_PKCS11_PIN" --so-pin "$so_pin" >/dev/null
	unset so_pin
fi

# ---------------------------------------------------------------------------
say "the signer's key $SIGN_KEY, generated inside the token"
# A token key is made once and kept: otatool never overwrites one.
run "$OTATOOL" keys list --json "$key_uri;type=private" >keys.json
if grep -q '"class": "private-key"' keys.json; then
	echo "already there: using it"
else
	run "$OTATOOL" keys generate --type ecdsa-p256 --key "$key_uri"
fi
# Only the public half comes out; the CA certifies that.
run "$OTATOOL" keys export-public "$key_uri" -o signer.pub.pem

# ---------------------------------------------------------------------------
say "a development CA: root -> intermediate -> signer"
# What each certificate may do. otatool's chain check is strict: every
# issuer CA:TRUE with keyCertSign, the signer digitalSignature and
# extendedKeyUsage codeSigning (a TLS certificate of the same CA is not a
# firmware signer), key identifiers present.
cat >ext.cnf <<'EOF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
# The root: self-signed, ten years. Devices (or their provisioning) hold
# this certificate and nothing else.
run openssl req -x509 -new -config ext.cnf -extensions root -newkey ec \
	-pkeyopt ec_paramgen_curve:P-384 -nodes -keyout root.key \
	-subj "/O=Acme/CN=Acme Firmware Root CA" -days 3650 -out root.pem \
	2>/dev/null
# The intermediate: issued by the root, five years; it signs signers.
run openssl req -new -config ext.cnf -newkey ec \
	-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout intermediate.key \
	-subj "/O=Acme/CN=Acme Firmware Signing CA" -out intermediate.csr \
	2>/dev/null
run openssl x509 -req -in intermediate.csr -CA root.pem -CAkey root.key \
	-set_serial "0x$(openssl rand -hex 8)" -days 1825 \
	-extfile ext.cnf -extensions intermediate -out intermediate.pem
# The signer: a certificate for the token's public key. A CSR must be
# signed by its own key, which stays in the token, so the request is made
# with a throwaway key and -force_pubkey puts the token's key in its place.
run openssl req -new -config ext.cnf -newkey ec \
	-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj "/O=Acme/CN=$SIGN_KEY" -out signer.csr 2>/dev/null
run openssl x509 -req -in signer.csr -force_pubkey signer.pub.pem \
	-CA intermediate.pem -CAkey intermediate.key \
	-set_serial "0x$(openssl rand -hex 8)" -days 365 \
	-extfile ext.cnf -extensions signer -out signer.pem
rm -f intermediate.csr signer.csr

# ---------------------------------------------------------------------------
say "check the chain before using it"
# The tree shows every certificate; a refusal would name the culprit
# ("<-- refused here") and exit with status 6. --key proves the
# certificate is the token key's.
run "$OTATOOL" chain check --cert signer.pem --chain intermediate.pem \
	--trust root.pem --key "$key_uri"
# The same chain through openssl, for an independent opinion.
run openssl verify -CAfile root.pem -untrusted intermediate.pem signer.pem

# ---------------------------------------------------------------------------
say "the manifest of examples/release.yaml"
# The manifest goes beside the release file, where otatool sign finds the
# images again to re-hash them.
mkdir release
cp "$here/release.yaml" release/
cp -R "$here/images" release/
if git -C "$root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	commit=$(git -C "$root" rev-parse HEAD)
else
	commit=0123456789abcdef0123456789abcdef01234567 # not a checkout
fi
# The build time is left to be now: a release that claims to be built
# before its signer's certificate existed would only confuse its readers.
unset SOURCE_DATE_EPOCH
run "$OTATOOL" manifest --git-commit "$commit" -o release/manifest.json \
	release/release.yaml

# ---------------------------------------------------------------------------
say "sign inside the token, with the certificate and its chain"
# With --trust, otatool checks the chain again before signing and refuses
# (status 6, nothing written) a signer that a device would refuse. The
# signer's certificate and the intermediate are embedded in the signature;
# the root is not: devices must already have it.
run "$OTATOOL" sign --key "$key_uri" --cert signer.pem \
	--chain intermediate.pem --trust root.pem release/manifest.json
signed=release/manifest.signed.json
if command -v jq >/dev/null; then
	echo "embedded certificates: $(jq '.signatures[0].certificates | length' "$signed")"
fi

# ---------------------------------------------------------------------------
say "package it, signed in the token again"
run "$OTATOOL" package --key "$key_uri" --cert signer.pem \
	--chain intermediate.pem --trust root.pem -o release.otapkg "$signed"

# ---------------------------------------------------------------------------
say "verify as the device would: the root certificate and device policy"
# Nothing but root.pem is trusted; the rest comes from the package. The
# device policy: its hardware variant, its anti-rollback counter and its
# bootloader version.
run "$OTATOOL" verify --trust root.pem --hardware acme-sensor-rev-b \
	--counter 7 --bootloader-version 1.2.0 release.otapkg

# A check that cannot fail checks nothing: another root must refuse it.
openssl req -x509 -new -config ext.cnf -extensions root -newkey ec \
	-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj "/CN=Someone Else's Root" -days 30 -out other-root.pem 2>/dev/null
status=0
"$OTATOOL" verify -q --trust other-root.pem release.otapkg 2>/dev/null ||
	status=$?
[ "$status" = 6 ] ||
	die "verify with another root returned $status, not 6 (untrusted)"
echo "another root: refused (status 6, untrusted)"

printf '\nrelease.otapkg verified through %s\n' \
	"$(openssl x509 -in root.pem -noout -subject)"
