#!/usr/bin/env bash
# The whole release flow as a CI job runs it, without a terminal:
#
#   manifest (reproducible, refusing a rollback against the last release)
#   -> signature inside a PKCS#11 token (--json, read with jq)
#   -> otatool package (the config image compressed) and an MCUboot image
#      of the application, both signed in the token
#   -> verification of both with the exported public key and a device's
#      policy, as the device will do it
#   -> with the last release's package, a delta package against it too
#      (otatool package --delta-from), checked by rebuilding the images
#   -> the artifacts published into an output directory.
#
# Every otatool call has its exit status checked against the one expected
# (otatool(1), EXIT STATUS), including one that must fail: a release with a
# lower version than the last one published is refused with status 9.
#
# In CI, the job is given:
#   OTATOOL_PKCS11_MODULE  the token's PKCS#11 module (the HSM vendor's
#                          shared library)
#   OTATOOL_PKCS11_PIN     the user PIN, from a masked CI secret; never on a
#                          command line or in a pkcs11: URI
#   SIGN_TOKEN, SIGN_KEY   token label and key label (default: release and
#                          fw-release); the key is made on the first run
#   LAST_RELEASE           the manifest of the last published release
#                          (default: one for 2.4.0 is made here)
#   LAST_PACKAGE           the package of the last published release: a
#                          delta package against it is published as well
#                          (default: none, only the full package)
#   LAST_PUBLIC_KEY        the public key LAST_PACKAGE is signed with
#                          (default: this job's release key)
#   RELEASE_VERSION        the version to release (default: $CI_COMMIT_TAG
#                          without its "v", else 2.4.1)
#   OUTPUT_DIR             where to publish (default: a new directory
#                          otatool-release.XXXXXX in $TMPDIR, kept)
# Without OTATOOL_PKCS11_MODULE it makes a throwaway SoftHSM token in a
# temporary directory, with a random PIN, so that it runs anywhere
# softhsm2-util is installed (set SOFTHSM2_MODULE if the module is not
# found).
#
# The release sources are examples/release.yaml and examples/images/,
# committed to a scratch git repository that stands for the CI checkout:
# the build time is that commit's (SOURCE_DATE_EPOCH), and the manifest
# records its id and tag. Device policy for the verification:
# DEVICE_HARDWARE, DEVICE_COUNTER, DEVICE_BOOTLOADER (defaults: the first
# hardware id, the last release's counter, the release's minimum).
#
# Also: OTATOOL (default build/otatool), MCUBOOT_SLOT_SIZE (default
# 0x60000). Needs bash, git, jq, openssl and sha256sum. Exits non-zero at
# the first unexpected status; removes everything but OUTPUT_DIR.
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
tag=${CI_COMMIT_TAG:-}
RELEASE_VERSION=${RELEASE_VERSION:-${tag#v}}
RELEASE_VERSION=${RELEASE_VERSION:-2.4.1}
MCUBOOT_SLOT_SIZE=${MCUBOOT_SLOT_SIZE:-0x60000}
# Relative paths are the caller's: the job changes directory below.
case ${OUTPUT_DIR:-/} in /*) ;; *) OUTPUT_DIR=$PWD/$OUTPUT_DIR ;; esac
case ${LAST_RELEASE:-/} in /*) ;; *) LAST_RELEASE=$PWD/$LAST_RELEASE ;; esac
case ${LAST_PACKAGE:-/} in /*) ;; *) LAST_PACKAGE=$PWD/$LAST_PACKAGE ;; esac
case ${LAST_PUBLIC_KEY:-/} in /*) ;; *) LAST_PUBLIC_KEY=$PWD/$LAST_PUBLIC_KEY ;; esac

step=0
say() { step=$((step + 1)); printf '\n==> %d. %s\n' "$step" "$*"; }
die() { printf 'release-flow-ci: %s\n' "$*" >&2; exit 1; }

# What each exit status of otatool means (otatool(1)), for the messages.
meaning() {
	case $1 in
	0) echo "success" ;;
	1) echo "internal error" ;;
	2) echo "usage error" ;;
	3) echo "bad input" ;;
	4) echo "output not written" ;;
	5) echo "verification failed" ;;
	6) echo "certificate chain not trusted" ;;
	7) echo "key, PIN or token error" ;;
	8) echo "refused by policy: uncommitted changes" ;;
	9) echo "version not higher than the last release" ;;
	10) echo "security counter rollback" ;;
	11) echo "hardware not listed" ;;
	12) echo "bootloader too old" ;;
	*) echo "killed or unknown" ;;
	esac
}

# expect STATUS CMD...: runs CMD (shown first) and stops the job unless it
# exits with STATUS. A CI job that only checks for "not zero" cannot tell
# a refused rollback from a token that is down.
expect() {
	local want=$1 status=0
	shift
	printf '+ %s\n' "$*" >&2
	"$@" || status=$?
	[ "$status" = "$want" ] ||
		die "$(basename "$1") ${2:-}: expected exit status $want" \
			"($(meaning "$want")), got $status ($(meaning "$status"))"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/otatool-release-ci.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'echo "release-flow-ci: step $step failed" >&2' ERR

# ---------------------------------------------------------------------------
say "tools"
command -v "$OTATOOL" >/dev/null ||
	die "$OTATOOL not found: run scripts/build, or set OTATOOL"
for tool in git jq openssl sha256sum; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done
expect 0 "$OTATOOL" --version

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
	# What the CI secret would hold: random, and never on otatool's
	# command line (softhsm2-util has no other way to take it).
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
say "release key $SIGN_KEY in the token, and its public key for devices"
# A failed listing (wrong PIN, no such token) stops the job: trying again
# with the same PIN would only spend the token's retry counter.
expect 0 "$OTATOOL" keys list --json "$key_uri;type=private" >"$work/keys.json"
if jq -e '[.tokens[].objects[] | select(.class == "private-key")] | length == 1' \
	"$work/keys.json" >/dev/null; then
	echo "already there: using it"
else
	expect 0 "$OTATOOL" keys generate -q --type ecdsa-p256 --key "$key_uri"
fi
expect 0 "$OTATOOL" keys export-public -q "$key_uri" -o "$work/release.pub.pem"
pub_keyid=$(openssl pkey -pubin -in "$work/release.pub.pem" -outform DER |
	openssl dgst -sha256 -r | cut -d' ' -f1)
echo "key id: $pub_keyid"

# ---------------------------------------------------------------------------
say "the checkout, and SOURCE_DATE_EPOCH from its last commit"
# A CI runner checks the repository out; here a scratch repository holds
# examples/release.yaml and its images, tagged like a release pipeline.
src=$work/src
mkdir "$src"
cp "$here/release.yaml" "$src/"
cp -R "$here/images" "$src/"
(
	cd "$src"
	export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
	git init -q -b main
	git add -A
	git -c user.name=ci -c user.email=ci@example.invalid \
		-c commit.gpgsign=false commit -qm "release $RELEASE_VERSION"
	git -c tag.gpgsign=false tag "v$RELEASE_VERSION"
)
cd "$src"
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
export SOURCE_DATE_EPOCH
echo "commit: $(git rev-parse HEAD) (v$RELEASE_VERSION)"
echo "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"

# ---------------------------------------------------------------------------
say "the last published release"
if [ -n "${LAST_RELEASE:-}" ]; then
	[ -f "$LAST_RELEASE" ] || die "LAST_RELEASE: $LAST_RELEASE not found"
	cp "$LAST_RELEASE" "$work/last-release.json"
else
	# What the previous run of this job published as last-release.json.
	expect 0 "$OTATOOL" manifest -q --release-version 2.4.0 \
		--git-commit 0123456789abcdef0123456789abcdef01234567 \
		-o "$work/last-release.json" release.yaml
fi
last_version=$(jq -er .version "$work/last-release.json")
last_counter=$(jq -er .security_counter "$work/last-release.json")
echo "last release: $last_version, security counter $last_counter"

# ---------------------------------------------------------------------------
say "a lower version than the last release is refused (status 9)"
# A version below the last one: one less in the last non-zero of
# major.minor.patch (0.0.0-0 is below every other version).
IFS=. read -r major minor patch <<<"${last_version%%[-+]*}"
if [ "$patch" -gt 0 ]; then
	lower=$major.$minor.$((patch - 1))
elif [ "$minor" -gt 0 ]; then
	lower=$major.$((minor - 1)).0
elif [ "$major" -gt 0 ]; then
	lower=$((major - 1)).0.0
else
	lower=0.0.0-0
fi
expect 9 "$OTATOOL" manifest --release-version "$lower" \
	--previous "$work/last-release.json" -o manifest.json release.yaml
[ ! -e manifest.json ] || die "a refused manifest was written"
echo "refused, and nothing written: devices running $last_version would never install $lower"

# ---------------------------------------------------------------------------
say "the manifest of $RELEASE_VERSION"
# The manifest goes beside the release file: otatool sign and package find
# the images relative to it.
expect 0 "$OTATOOL" manifest --release-version "$RELEASE_VERSION" \
	--previous "$work/last-release.json" -o manifest.json release.yaml
jq -r '"\(.name) \(.version), counter \(.security_counter), built \(.build.time) from \(.git.short) (\(.git.tag))"' \
	manifest.json
config_image=$(jq -er '[.images[] | select(.kind == "config") | .name][0]' manifest.json)
app_image=$(jq -er '[.images[] | select(.kind == "application") | .name][0]' manifest.json)

# ---------------------------------------------------------------------------
say "sign it inside the token"
expect 0 "$OTATOOL" sign --json --key "$key_uri" manifest.json >"$work/sign.json"
signed=$(jq -er '.[0].output' "$work/sign.json")
sig_keyid=$(jq -er '.[0].signatures[-1].keyid' "$work/sign.json")
sig_alg=$(jq -er '.[0].signatures[-1].algorithm' "$work/sign.json")
echo "signed: $signed ($(jq -r '.[0].signatures | length' "$work/sign.json") signature, $sig_alg)"
[ "$sig_keyid" = "$pub_keyid" ] ||
	die "signed by $sig_keyid, not by the exported key $pub_keyid"
echo "key id matches the exported public key"

# ---------------------------------------------------------------------------
say "package for the bootloader ($config_image compressed)"
expect 0 "$OTATOOL" package --key "$key_uri" --compress-image "$config_image" \
	-o release.otapkg "$signed"
expect 0 "$OTATOOL" inspect --json release.otapkg >"$work/inspect.json"
jq -r '.images[] | "  \(.name): \(.kind), \(.size) bytes, stored \(.compression) (\(.stored_size) bytes)"' \
	"$work/inspect.json"

say "MCUboot image of $app_image"
expect 0 "$OTATOOL" package --format mcuboot --key "$key_uri" \
	--image "$app_image" --slot-size "$MCUBOOT_SLOT_SIZE" \
	-o app.mcuboot.bin "$signed"

# ---------------------------------------------------------------------------
hardware=${DEVICE_HARDWARE:-$(jq -er '.hardware[0]' manifest.json)}
counter=${DEVICE_COUNTER:-$last_counter}
bootloader=${DEVICE_BOOTLOADER:-$(jq -r '.bootloader_min // "0.0.0"' manifest.json)}
say "verify both as a device ($hardware, counter $counter, bootloader $bootloader) would"
expect 0 "$OTATOOL" verify --trust-key "$work/release.pub.pem" \
	--hardware "$hardware" --counter "$counter" \
	--bootloader-version "$bootloader" release.otapkg
# MCUboot images carry no hardware list and no bootloader minimum: the
# security counter is the policy that applies.
expect 0 "$OTATOOL" verify --trust-key "$work/release.pub.pem" \
	--counter "$counter" app.mcuboot.bin
# And the device refuses it once it runs something newer.
expect 10 "$OTATOOL" verify -q --trust-key "$work/release.pub.pem" \
	--counter "$((last_counter + 1))" release.otapkg
echo "a device at counter $((last_counter + 1)) refuses it (status 10)"

# ---------------------------------------------------------------------------
if [ -n "${LAST_PACKAGE:-}" ]; then
	[ -f "$LAST_PACKAGE" ] || die "LAST_PACKAGE: $LAST_PACKAGE not found"
	say "a delta package for devices that run $last_version"
	# The last package must verify with the key it was signed with; each
	# image it has is stored as a patch where that is smaller. Devices
	# that run anything else take the full package.
	last_key=${LAST_PUBLIC_KEY:-$work/release.pub.pem}
	# (--trust-key is the trust for every input: the signed manifest's
	# key too)
	expect 0 "$OTATOOL" package --key "$key_uri" \
		--trust-key "$work/release.pub.pem" --trust-key "$last_key" \
		--compress-image "$config_image" --delta-from "$LAST_PACKAGE" \
		-o delta.otapkg "$signed"
	# A device checks the base it holds by its digest, the package by
	# this release's key: the same here, trusting both keys.
	expect 0 "$OTATOOL" verify --trust-key "$work/release.pub.pem" \
		--trust-key "$last_key" --base "$LAST_PACKAGE" delta.otapkg
	expect 0 "$OTATOOL" extract -q --trust-key "$work/release.pub.pem" \
		--trust-key "$last_key" --base "$LAST_PACKAGE" -o "$work/rebuilt" \
		delta.otapkg
	expect 0 "$OTATOOL" extract -q --trust-key "$work/release.pub.pem" \
		-o "$work/full" release.otapkg
	for f in "$work/full"/*.bin; do
		cmp "$f" "$work/rebuilt/$(basename "$f")" ||
			die "$(basename "$f"): the delta rebuilds other bytes"
	done
	echo "delta: $(wc -c <delta.otapkg | tr -d ' ') bytes instead of $(wc -c <release.otapkg | tr -d ' '); rebuilt images identical to the full package's"
fi

# ---------------------------------------------------------------------------
if [ -n "${OUTPUT_DIR:-}" ]; then
	mkdir -p "$OUTPUT_DIR"
	out=$(cd "$OUTPUT_DIR" && pwd)
else
	out=$(mktemp -d "${TMPDIR:-/tmp}/otatool-release.XXXXXX")
fi
say "publish to $out"
name=$(jq -er .name manifest.json)-$RELEASE_VERSION
cp release.otapkg "$out/$name.otapkg"
delta=
if [ -n "${LAST_PACKAGE:-}" ]; then
	delta=$name-delta-from-$last_version.otapkg
	cp delta.otapkg "$out/$delta"
fi
cp app.mcuboot.bin "$out/$name-$app_image.mcuboot.bin"
cp "$signed" "$out/$name.manifest.signed.json"
cp "$work/release.pub.pem" "$out/release.pub.pem"
# The next run's --previous: what devices will be running after this one.
cp manifest.json "$out/last-release.json"
(cd "$out" && sha256sum -- "$name.otapkg" ${delta:+"$delta"} \
	"$name-$app_image.mcuboot.bin" "$name.manifest.signed.json" \
	release.pub.pem >SHA256SUMS)
for f in "$name.otapkg" ${delta:+"$delta"} "$name-$app_image.mcuboot.bin" \
	"$name.manifest.signed.json" release.pub.pem last-release.json SHA256SUMS; do
	printf '  %s (%s bytes)\n' "$out/$f" "$(wc -c <"$out/$f" | tr -d ' ')"
done

printf '\nrelease %s published: %s\n' "$RELEASE_VERSION" "$out"
