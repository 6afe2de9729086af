#!/usr/bin/env bash
# A release engineer's workstation, with the signing keys in hardware:
#
#   - an online HSM (a USB token, or a network HSM through its vendor's
#     PKCS#11 library) that otatool signs with directly;
#   - an offline HSM that otatool never talks to: the digest goes to it on
#     removable media and the signature comes back (two-step signing);
#   - last year's release key, an encrypted key file, still trusted by the
#     devices in the field: during the key rotation every release carries
#     a signature by the old key and one by the new key.
#
# Steps: find the key with `otatool keys list`; issue the new key's
# certificate from a development CA and check the chain (`otatool chain
# check`, then `otatool sign --trust`, which refuses to sign with a key
# whose chain would not verify); sign with the new and the old key; add the
# offline HSM's signature (`--export-digest`, `pkcs11-tool --sign` as a
# stand-in for the offline HSM's own tool, `--import-signature`, showing
# that a wrong signature is refused and nothing written); package, and
# verify as an old and a new device would.
#
# Both HSMs are SoftHSM tokens in a temporary directory here, so that the
# script runs anywhere. With real hardware, point OTATOOL_PKCS11_MODULE at
# the vendor's module (for a USB token with OpenSC, opensc-pkcs11.so) and
# leave the provisioning of step 2 to the key ceremony.
#
# At a workstation the secrets are typed, never put in a file or on a
# command line: otatool asks for the PIN ("PIN for token 'release': ") and
# for the key file's passphrase on the terminal, with echo off, when
# OTATOOL_PKCS11_PIN and OTATOOL_KEY_PASSPHRASE are not set. This script
# must run unattended, so it sets both; each place where an engineer would
# type is marked "PROMPT" below.
#
# Also: OTATOOL (default build/otatool), SOFTHSM2_MODULE (if libsofthsm2.so
# is not found). Needs bash, openssl, jq, softhsm2-util and pkcs11-tool
# (OpenSC). Exits non-zero at the first unexpected status; removes
# everything it made.
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
die() { printf 'release-engineer: %s\n' "$*" >&2; exit 1; }

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

work=$(mktemp -d "${TMPDIR:-/tmp}/otatool-engineer.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'echo "release-engineer: step $step failed" >&2' ERR
cd "$work"

# ---------------------------------------------------------------------------
say "tools"
command -v "$OTATOOL" >/dev/null ||
	die "$OTATOOL not found: run scripts/build, or set OTATOOL"
for tool in openssl jq softhsm2-util pkcs11-tool; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done
expect 0 "$OTATOOL" --version

# ---------------------------------------------------------------------------
say "the HSMs (SoftHSM stand-ins) and the keys made at the key ceremony"
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
# PROMPT: unset, otatool asks "PIN for token 'release': " without echo.
OTATOOL_PKCS11_PIN=$(openssl rand -hex 8)
export OTATOOL_PKCS11_PIN
# The offline HSM's PIN belongs to whoever operates it, not to otatool.
VAULT_PIN=$(openssl rand -hex 8)
export VAULT_PIN
so_pin=$(openssl rand -hex 8)
softhsm2-util --init-token --free --label release \
	--pin "$OTATOOL_PKCS11_PIN" --so-pin "$so_pin" >/dev/null
softhsm2-util --init-token --free --label vault \
	--pin "$VAULT_PIN" --so-pin "$so_pin" >/dev/null
unset so_pin
echo "online HSM 'release' and offline HSM 'vault' through $module"

# This year's key, generated inside the online HSM (non-extractable).
expect 0 "$OTATOOL" keys generate -q --type ecdsa-p256 \
	--key 'pkcs11:token=release;object=fw-2026' >/dev/null
# The offline HSM's key, made with its own tool (pkcs11-tool stands in).
echo "+ pkcs11-tool --token-label vault --keypairgen --key-type EC:prime256v1 --label fw-vault-2026" >&2
pkcs11-tool --module "$module" --token-label vault --login \
	--pin env:VAULT_PIN --keypairgen --key-type EC:prime256v1 \
	--label fw-vault-2026 --id 01 >/dev/null 2>&1
# Last year's key: an encrypted key file on the workstation.
expect 0 "$OTATOOL" keys generate -q --type ecdsa-p256 --key plain-2025.pem \
	--public fw-2025.pub.pem >/dev/null
# PROMPT: unset, otatool asks "Passphrase for fw-2025.pem: " without echo.
OTATOOL_KEY_PASSPHRASE=$(openssl rand -hex 12)
export OTATOOL_KEY_PASSPHRASE
openssl pkey -in plain-2025.pem -aes256 -passout env:OTATOOL_KEY_PASSPHRASE \
	-out fw-2025.pem
rm plain-2025.pem
echo "old key: fw-2025.pem ($(head -n 1 fw-2025.pem))"

# ---------------------------------------------------------------------------
say "find the key: otatool keys list"
# Every token of the module. With several tokens otatool logs in to none
# (a PIN tried on each would spend the others' retry counters), so only
# public objects show.
expect 0 "$OTATOOL" keys list
# Naming the token logs in to it (PROMPT: the PIN) and shows private keys;
# the URI printed under a key is what --key takes.
expect 0 "$OTATOOL" keys list 'pkcs11:token=release'
expect 0 "$OTATOOL" keys list --json 'pkcs11:token=release;object=fw-2026' >keys.json
key=$(jq -er '[.tokens[].objects[]
	| select(.class == "private-key" and .label == "fw-2026") | .uri]
	| if length == 1 then .[0] else error("not exactly one key") end' keys.json)
echo "signing key: $key"
expect 0 "$OTATOOL" keys export-public "$key" -o fw-2026.pub.pem

# ---------------------------------------------------------------------------
say "a certificate for the new key, and its chain checked"
# A development CA, as scripts/demo makes it: root -> intermediate ->
# signer. The signer's key never leaves the HSM: its certificate is issued
# for the exported public key (the CSR's own key is a throwaway).
cat >ca.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
openssl req -x509 -config ca.cnf -extensions root -newkey ec \
	-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
	-subj "/CN=Example Firmware Root" -days 3650 -out root.pem 2>/dev/null
openssl req -new -config ca.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	-nodes -keyout inter.key -subj "/CN=Example Firmware Intermediate" \
	-out inter.csr 2>/dev/null
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial \
	-days 1825 -extfile ca.cnf -extensions inter -out inter.pem 2>/dev/null
openssl req -new -config ca.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	-nodes -keyout /dev/null -subj "/CN=fw-2026" -out signer.csr 2>/dev/null
openssl x509 -req -in signer.csr -force_pubkey fw-2026.pub.pem -CA inter.pem \
	-CAkey inter.key -CAcreateserial -days 365 -extfile ca.cnf \
	-extensions signer -out signer.pem 2>/dev/null
echo "root.pem -> inter.pem -> signer.pem (CN=fw-2026)"
expect 0 "$OTATOOL" chain check --cert signer.pem --chain inter.pem \
	--trust root.pem --key "$key"
# The check that matters most: the certificate must hold the key that
# signs. Given the old key, it is refused (status 6).
expect 6 "$OTATOOL" chain check -q --cert signer.pem --chain inter.pem \
	--trust root.pem --key fw-2025.pub.pem
echo "the certificate does not hold the old key: refused (status 6)"

# ---------------------------------------------------------------------------
say "the release's manifest"
mkdir release
cp "$here/release.yaml" release/
cp -R "$here/images" release/
if git -C "$root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	commit=$(git -C "$root" rev-parse HEAD)
else
	commit=0123456789abcdef0123456789abcdef01234567
fi
# Built now, after the certificates were issued a moment ago: a release
# dated before its signer's certificate would not make sense.
unset SOURCE_DATE_EPOCH
expect 0 "$OTATOOL" manifest -q --git-commit "$commit" \
	-o release/manifest.json release/release.yaml

# ---------------------------------------------------------------------------
say "key rotation: sign with the new key (chain checked) and the old key"
# --trust makes sign check each key's chain before anything is signed. A
# key without a certificate has no chain to check, so the old key adds its
# signature in a second run, to the signed manifest.
expect 0 "$OTATOOL" sign --key "$key" --cert signer.pem --chain inter.pem \
	--trust root.pem release/manifest.json
expect 0 "$OTATOOL" sign --json --key fw-2025.pem \
	release/manifest.signed.json >sign.json
jq -r '.[0].signatures[] | "  \(.algorithm) \(.keyid)"' sign.json
[ "$(jq '.[0].signatures | length' sign.json)" = 2 ] ||
	die "expected two signatures"

# ---------------------------------------------------------------------------
say "the offline HSM's signature, in two steps"
# Its public key, as the key ceremony recorded it.
pkcs11-tool --module "$module" --token-label vault --read-object \
	--type pubkey --label fw-vault-2026 -o vault.pub.der >/dev/null 2>&1
openssl pkey -pubin -inform DER -in vault.pub.der -out vault.pub.pem
# 1. On the workstation: the digest to sign (32 bytes of SHA-256 of the
#    DSSE pre-authentication encoding, otatool-signature(5)).
expect 0 "$OTATOOL" sign --key vault.pub.pem --export-digest release.digest \
	release/manifest.signed.json
echo "release.digest: $(od -An -tx1 release.digest | tr -d ' \n')"
# 2. At the offline HSM (the digest carried over on removable media). The
#    operator logs in there: PROMPT, pkcs11-tool --login without --pin asks
#    without echo, or the HSM's PIN pad. Its ECDSA output is raw r||s,
#    which otatool accepts.
echo "+ pkcs11-tool --token-label vault --login --sign --mechanism ECDSA --input-file release.digest --output-file release.sig" >&2
pkcs11-tool --module "$module" --token-label vault --login \
	--pin env:VAULT_PIN --label fw-vault-2026 --sign --mechanism ECDSA \
	--input-file release.digest --output-file release.sig 2>/dev/null
# A wrong signature first: the offline HSM's signature of another digest,
# as when the wrong file was carried over. Refused, and nothing written.
printf 'not the release manifest digest' | openssl dgst -sha256 -binary >other.digest
pkcs11-tool --module "$module" --token-label vault --login \
	--pin env:VAULT_PIN --label fw-vault-2026 --sign --mechanism ECDSA \
	--input-file other.digest --output-file wrong.sig 2>/dev/null
before=$(openssl dgst -sha256 -r release/manifest.signed.json)
expect 5 "$OTATOOL" sign --key vault.pub.pem --import-signature wrong.sig \
	release/manifest.signed.json
[ "$(openssl dgst -sha256 -r release/manifest.signed.json)" = "$before" ] ||
	die "a refused signature changed the signed manifest"
[ -z "$(find release -name '.manifest*')" ] || die "temporary files left"
echo "wrong signature refused (status 5): manifest.signed.json unchanged"
# 3. Back on the workstation: the right one.
expect 0 "$OTATOOL" sign --json --key vault.pub.pem \
	--import-signature release.sig release/manifest.signed.json >sign.json
jq -r '.[0].signatures[] | "  \(.algorithm) \(.keyid)"' sign.json
[ "$(jq '.[0].signatures | length' sign.json)" = 3 ] ||
	die "expected three signatures"

# ---------------------------------------------------------------------------
say "the package, signed by the new and the old key"
# The chain was checked above; --trust again would refuse the old key,
# which has no certificate.
expect 0 "$OTATOOL" package --key "$key" --cert signer.pem --chain inter.pem \
	--key fw-2025.pem -o release.otapkg release/manifest.signed.json
expect 0 "$OTATOOL" inspect release.otapkg

say "verify as the devices in the field would"
# A device that still trusts only last year's key ...
expect 0 "$OTATOOL" verify --trust-key fw-2025.pub.pem \
	--hardware acme-sensor-rev-b --counter 7 release.otapkg
# ... one that trusts the new root ...
expect 0 "$OTATOOL" verify --trust root.pem \
	--hardware acme-sensor-rev-c --counter 7 release.otapkg
# ... and the signed manifest for whoever holds the offline key's public
# half (an update server, an auditor).
expect 0 "$OTATOOL" verify -q --trust-key vault.pub.pem \
	release/manifest.signed.json
echo "the signed manifest verifies with the offline key"

printf '\nrelease signed by 3 keys (online HSM, old key file, offline HSM); package verified for old and new devices\n'
