# End-to-end test of examples/: every examples/*.sh runs as a user would
# run it, with OTATOOL set, from a scratch directory, without a terminal
# (a prompt would fail instead of waiting) and without a token or secrets in
# the environment, so each one makes its own SoftHSM token. Each must exit
# 0, print the line that says it reached its end, and leave nothing behind
# in TMPDIR; the artifacts the CI flow publishes are checked with openssl
# and sha256sum.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl softhsm2-util pkcs11-tool setsid sha256sum

EX=$OTATOOL_SRC/examples
export OTATOOL
# What an example must not inherit: a token, secrets, a SoftHSM setup.
unset OTATOOL_PKCS11_MODULE OTATOOL_PKCS11_PIN OTATOOL_KEY_PASSPHRASE \
	SOFTHSM2_CONF SIGN_TOKEN SIGN_KEY ARTIFACTS OUTPUT_DIR LAST_RELEASE \
	RELEASE_VERSION CI_COMMIT_TAG DEVICE_HARDWARE DEVICE_COUNTER \
	DEVICE_BOOTLOADER
# Under ASan, leaks allocated inside SoftHSM are not otatool's (see
# test_sign.sh).
printf 'leak:libsofthsm2.so\n' >"$T/lsan.supp"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$T/lsan.supp"

# example NAME [VAR=VALUE...]: runs examples/NAME in $T/run/NAME, in a
# session of its own (no controlling terminal), with TMPDIR=$T/tmp/NAME.
example() {
	local name=$1 dir=$T/run/$1

	shift
	mkdir -p "$dir" "$T/tmp/$name"
	check "$name" in_dir "$dir" env TMPDIR="$T/tmp/$name" "$@" \
		setsid -w bash "$EX/$name"
}

# assert_cleaned NAME: the example removed its temporary directories.
assert_cleaned() {
	local left

	left=$(find "$T/tmp/$1" -mindepth 1 -maxdepth 1 -print 2>/dev/null)
	[ -z "$left" ]
	_assert $? "$1 left in TMPDIR: $left"
}

# every examples/*.sh must be covered below
for script in "$EX"/*.sh; do
	name=$(basename "$script")
	case $name in
	ci-sign-with-token.sh | release-flow-ci.sh | release-engineer.sh | \
		verify-download.sh | release-with-ca.sh | encrypted-release.sh | key-rotation.sh) ;;
	*)
		fail "examples/$name has no test in test_examples.sh"
		;;
	esac
done

# ---------------------------------------------------------------- ci-sign-with-token.sh

if example ci-sign-with-token.sh ARTIFACTS="$T/run/ci-artifacts"; then
	assert_contains "$OUT" "a tampered manifest is rejected"
	assert_matches "$OUT" '^signed manifest verified: [0-9a-f]{64}$'
	assert_exists "$T/run/ci-artifacts/manifest.signed.json"
	assert_exists "$T/run/ci-artifacts/release.pub.pem"
	# The key id it printed is the exported key's.
	keyid=$(sed -n 's/^signed manifest verified: //p' "$OUT")
	assert_json "$T/run/ci-artifacts/manifest.signed.json" \
		'.signatures[0].keyid' "$(q "$keyid")"
fi
assert_cleaned ci-sign-with-token.sh

# ---------------------------------------------------------------- release-flow-ci.sh

# OUTPUT_DIR relative to where the job is started, as in a CI job.
P=$T/run/release-flow-ci.sh/published
if example release-flow-ci.sh OUTPUT_DIR=published; then
	assert_contains "$OUT" "release 2.4.1 published: $P"
	assert_contains "$OUT" "refused, and nothing written"
	assert_contains "$ERR" "version 2.3.0 is not higher than 2.4.0"
	assert_contains "$OUT" "a device at counter 8 refuses it (status 10)"
	assert_contains "$OUT" "verdict: VALID"
	for f in acme-sensor-fw-2.4.1.otapkg acme-sensor-fw-2.4.1-app.mcuboot.bin \
		acme-sensor-fw-2.4.1.manifest.signed.json release.pub.pem \
		last-release.json SHA256SUMS; do
		assert_contains "$OUT" "$P/$f"
		assert_exists "$P/$f"
	done
	check "release-flow-ci.sh: SHA256SUMS" in_dir "$P" sha256sum -c SHA256SUMS
	assert_json "$P/last-release.json" '[.version, .git.tag]' '["2.4.1","v2.4.1"]'
	# The published signed manifest, checked with openssl alone.
	jq -r .payload "$P/acme-sensor-fw-2.4.1.manifest.signed.json" |
		base64 -d >"$T/payload"
	t=application/vnd.otatool.manifest+json
	printf 'DSSEv1 %d %s %d ' ${#t} "$t" "$(wc -c <"$T/payload")" >"$T/pae"
	cat "$T/payload" >>"$T/pae"
	jq -r '.signatures[0].sig' "$P/acme-sensor-fw-2.4.1.manifest.signed.json" |
		base64 -d >"$T/sig"
	check "release-flow-ci.sh: openssl verifies the published manifest" \
		openssl dgst -sha256 -verify "$P/release.pub.pem" \
		-signature "$T/sig" "$T/pae"
	assert_same_file "$T/payload" "$P/last-release.json"
	check "release-flow-ci.sh: the published package verifies" \
		otatool verify -q --trust-key "$P/release.pub.pem" \
		--hardware acme-sensor-rev-c "$P/acme-sensor-fw-2.4.1.otapkg"

	# The next run, against what this one published: the same version
	# again is a downgrade, and the job must stop on it ...
	expect_exit 1 "release-flow-ci.sh: the same version again" \
		in_dir "$T/run/release-flow-ci.sh" \
		env TMPDIR="$T/tmp/release-flow-ci.sh" OUTPUT_DIR=again \
		LAST_RELEASE=published/last-release.json RELEASE_VERSION=2.4.1 \
		setsid -w bash "$EX/release-flow-ci.sh"
	assert_contains "$ERR" "expected exit status 0 (success), got 9"
	assert_not_exists "$T/run/release-flow-ci.sh/again"
	# ... while the next version goes through.
	if check "release-flow-ci.sh: the next version" \
		in_dir "$T/run/release-flow-ci.sh" \
		env TMPDIR="$T/tmp/release-flow-ci.sh" OUTPUT_DIR=next \
		LAST_RELEASE=published/last-release.json RELEASE_VERSION=2.4.2 \
		LAST_PACKAGE=published/acme-sensor-fw-2.4.1.otapkg \
		LAST_PUBLIC_KEY=published/release.pub.pem \
		setsid -w bash "$EX/release-flow-ci.sh"; then
		assert_contains "$OUT" "last release: 2.4.1, security counter 7"
		assert_contains "$OUT" "devices running 2.4.1 would never install 2.4.0"
		assert_exists "$T/run/release-flow-ci.sh/next/acme-sensor-fw-2.4.2.otapkg"
		# ... with a delta package against the last one
		N=$T/run/release-flow-ci.sh/next
		assert_contains "$OUT" "rebuilt images identical to the full package's"
		assert_exists "$N/acme-sensor-fw-2.4.2-delta-from-2.4.1.otapkg"
		check "release-flow-ci.sh: SHA256SUMS with the delta" \
			in_dir "$N" sha256sum -c SHA256SUMS
		check "release-flow-ci.sh: the delta rebuilds from the published 2.4.1" \
			otatool extract -q --trust-key "$P/release.pub.pem" \
			--trust-key "$N/release.pub.pem" \
			--base "$P/acme-sensor-fw-2.4.1.otapkg" -o "$T/delta-out" \
			"$N/acme-sensor-fw-2.4.2-delta-from-2.4.1.otapkg"
		check "release-flow-ci.sh: the full 2.4.2" \
			otatool extract -q --trust-key "$N/release.pub.pem" \
			-o "$T/full-out" "$N/acme-sensor-fw-2.4.2.otapkg"
		for f in "$T/full-out"/*.bin; do
			assert_same_file "$f" "$T/delta-out/$(basename "$f")"
		done
	fi
fi
assert_cleaned release-flow-ci.sh

# ---------------------------------------------------------------- release-engineer.sh

if example release-engineer.sh; then
	assert_contains "$OUT" "wrong signature refused (status 5): manifest.signed.json unchanged"
	assert_contains "$OUT" "the certificate does not hold the old key: refused (status 6)"
	assert_contains "$OUT" "verdict: TRUSTED"
	assert_contains "$OUT" "release signed by 3 keys"
	assert_matches "$OUT" 'signature 0 +ecdsa-p256-sha256 signature by "CN=fw-2026", chain to "CN=Example Firmware Root" trusted'
	assert_matches "$OUT" 'signature 1 +ecdsa-p256-sha256 signature by trusted key fw-2025.pub.pem'
fi
assert_cleaned release-engineer.sh

# ---------------------------------------------------------------- verify-download.sh

if example verify-download.sh; then
	assert_contains "$OUT" "download verified: acme-sensor-fw-2.4.1.otapkg"
	assert_contains "$OUT" "openssl pkeyutl -verify: Signature Verified Successfully"
	assert_contains "$OUT" "independent check: VALID"
	assert_contains "$OUT" "independent check: REFUSED"
	assert_matches "$OUT" '^\[ FAIL \] image app '
fi
assert_cleaned verify-download.sh

# ---------------------------------------------------------------- encrypted-release.sh

if example encrypted-release.sh; then
	assert_contains "$OUT" "encrypted release verified and extracted by both recipients"
	assert_contains "$OUT" "encrypted, AES-256-CTR, 2 recipients:"
	assert_contains "$OUT" "plaintext not checked (no --decrypt-key; it decrypts with ecies-x25519 key id"
	assert_contains "$OUT" "no image's first 24 bytes, and no settings text, in release.otapkg"
	assert_contains "$ERR" "no IMAGE_KEY unwraps with this X25519 key"
	assert_contains "$ERR" "CKK_EC_MONTGOMERY"
fi
assert_cleaned encrypted-release.sh

# ---------------------------------------------------------------- key-rotation.sh

if example key-rotation.sh; then
	assert_contains "$OUT" "key rotation across three releases: done"
	assert_contains "$OUT" "a release signed by the revoked R2 is refused (status 5)"
	assert_contains "$ERR" "signed by 1 distinct trusted key; 2 required"
	assert_contains "$ERR" "skips version 2"
	# three releases verified: v1 alone, v1 -> v2, v1 -> v2 -> v3
	[ "$(grep -c '^verdict: VALID' "$OUT")" = 3 ]
	_assert $? "three VALID verdicts: $(grep -c '^verdict: VALID' "$OUT")"
	assert_contains "$OUT" "release keys           2 of root record version 3, 1 revoked; threshold 2"
fi
assert_cleaned key-rotation.sh

# ---------------------------------------------------------------- release-with-ca.sh

if [ -f "$EX/release-with-ca.sh" ]; then
	if example release-with-ca.sh; then
		assert_contains "$OUT" "verdict: VALID"
		assert_matches "$OUT" '^release\.otapkg verified through '
	fi
	assert_cleaned release-with-ca.sh
else
	skip "release-with-ca.sh" "not in examples/"
fi

finish
