#!/usr/bin/env bash
# Benchmark, not a test: signs BENCH_COUNT small manifests through SoftHSM in
# one `otatool sign` invocation, and makes the same number of ECDSA
# signatures with one `pkcs11-tool --sign` call each, and reports both as
# signatures per second. Fails only if a command fails or a sampled
# signature does not verify with openssl. See bench/README.md.
#
#   OTATOOL=path        binary to measure (default: build with scripts/build)
#   BENCH_COUNT=N       manifests / signatures (default 1000)
#   BENCH_RUNS=N        runs of each side, best wall time kept (default 3)
#   BENCH_DIR=DIR       scratch directory (default bench/out)
#   BENCH_KEEP=1        keep the manifests, digests, signatures and token
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

count=${BENCH_COUNT:-1000}
runs=${BENCH_RUNS:-3}
posint BENCH_COUNT "$count"
posint BENCH_RUNS "$runs"
keep=${BENCH_KEEP:-0}

# OTATOOL and BENCH_DIR are relative to the caller's directory, not the root.
otatool=${OTATOOL:-}
[ -z "$otatool" ] || otatool=$(realpath -- "$otatool")
scratch=${BENCH_DIR:-}
[ -z "$scratch" ] || scratch=$(realpath -m -- "$scratch")

cd "$(dirname "$0")/.."
scratch=${scratch:-$PWD/bench/out}

module=/usr/lib/softhsm/libsofthsm2.so

# GNU time (Debian package `time`) gives peak RSS. scripts/deps installs it,
# SoftHSM, OpenSC's pkcs11-tool and the build dependencies when missing.
if [ -z "$otatool" ] || [ ! -x /usr/bin/time ] || [ ! -e "$module" ] ||
	! command -v softhsm2-util >/dev/null ||
	! command -v pkcs11-tool >/dev/null || ! command -v jq >/dev/null ||
	! command -v openssl >/dev/null; then
	scripts/deps time
fi
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is missing"
[ -e "$module" ] || die "SoftHSM ($module) is missing"
command -v pkcs11-tool >/dev/null || die "pkcs11-tool (opensc) is missing"

if [ -z "$otatool" ]; then
	dir=$(scripts/build) || die "scripts/build failed (a source edit in progress?); retry later"
	otatool=$PWD/$dir/otatool
fi
[ -x "$otatool" ] || die "no executable otatool at $otatool"

# Everything goes to one subdirectory of the scratch directory; an earlier
# kept run's is replaced (its token would make the label ambiguous).
work=$scratch/sign-hsm
mkdir -p "$scratch"
rm -rf -- "$work"
mkdir -p "$work/tokens" "$work/m" "$work/p11"
cleanup() {
	[ "$keep" = 1 ] && return 0
	rm -rf -- "$work"
	rmdir -- "$scratch" 2>/dev/null || true
}
trap cleanup EXIT

# Run a copy: others may rebuild build/otatool while this runs.
otatool_src=$otatool
otatool=$work/otatool
cp -- "$otatool_src" "$otatool"

commit=0123456789abcdef0123456789abcdef01234567 # fixed: git not measured
ptype=application/vnd.otatool.manifest+json
tf=$work/time.txt

sig_fail() { # FILE WHAT
	echo "bench/sign-hsm.sh: SIGNATURE CHECK FAILED: $1: $2" >&2
	exit 1
}

# pae MANIFEST: the DSSE pre-authentication encoding otatool signs
# (otatool-signature(5)), on stdout.
pae() {
	printf 'DSSEv1 %d %s %d ' ${#ptype} "$ptype" "$(stat -c %s "$1")"
	cat "$1"
}

# check_signed SIGNED MANIFEST PUB.pem KEYID: the envelope carries MANIFEST
# byte for byte and one ecdsa-p256-sha256 signature by PUB of its PAE,
# checked by openssl alone.
check_signed() {
	local signed=$1 manifest=$2 pub=$3 want=$4 w=$work/check
	[ -s "$signed" ] || sig_fail "$signed" "not written"
	[ "$(jq -r '[.payloadType, (.signatures | length),
		.signatures[0].algorithm, .signatures[0].keyid] | join(" ")' \
		"$signed")" = "$ptype 1 ecdsa-p256-sha256 $want" ] ||
		sig_fail "$signed" "unexpected type, count, algorithm or keyid"
	jq -r .payload "$signed" | base64 -d >"$w.payload"
	cmp -s "$w.payload" "$manifest" ||
		sig_fail "$signed" "payload is not $manifest"
	pae "$w.payload" >"$w.pae"
	jq -r '.signatures[0].sig' "$signed" | base64 -d >"$w.sig"
	openssl dgst -sha256 -verify "$pub" -signature "$w.sig" "$w.pae" \
		>"$w.txt" 2>&1 || sig_fail "$signed" "openssl: $(tr '\n' ' ' <"$w.txt")"
}

# check_raw SIG DIGEST PUB.pem: pkcs11-tool's raw r||s ECDSA signature of
# the 32-byte DIGEST, rewritten as DER and checked by openssl.
check_raw() {
	local sig=$1 digest=$2 pub=$3 w=$work/check hex
	[ "$(stat -c %s "$sig")" = 64 ] || sig_fail "$sig" "not 64 bytes (r||s)"
	hex=$(od -An -v -tx1 "$sig" | tr -d ' \n')
	printf '%s\n' "asn1=SEQUENCE:sig" "[sig]" "r=INTEGER:0x${hex:0:64}" \
		"s=INTEGER:0x${hex:64:64}" >"$w.cnf"
	openssl asn1parse -genconf "$w.cnf" -out "$w.der" >/dev/null ||
		sig_fail "$sig" "cannot convert to DER"
	openssl pkeyutl -verify -pubin -inkey "$pub" -in "$digest" \
		-sigfile "$w.der" >"$w.txt" 2>&1 ||
		sig_fail "$sig" "openssl: $(tr '\n' ' ' <"$w.txt")"
}

# A fresh SoftHSM token in the scratch directory, and a P-256 key in it.
key='pkcs11:token=bench;object=fw'
pub=$work/token.pub.pem
printf '%s\n' "directories.tokendir = $work/tokens" \
	"objectstore.backend = file" "log.level = ERROR" >"$work/softhsm2.conf"
export SOFTHSM2_CONF=$work/softhsm2.conf
export OTATOOL_PKCS11_MODULE=$module OTATOOL_PKCS11_PIN=1234
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 \
	>/dev/null || die "softhsm2-util --init-token failed"
"$otatool" keys generate --type ecdsa-p256 --key "$key" -q ||
	die "otatool keys generate (token) failed"
"$otatool" keys export-public "$key" -o "$pub" -q ||
	die "otatool keys export-public failed"
keyid=$(openssl pkey -pubin -in "$pub" -outform DER |
	openssl dgst -sha256 -r | cut -d' ' -f1)
# pkcs11-tool names the key by CKA_ID (hex).
id=$("$otatool" keys list --json "pkcs11:token=bench" | jq -r '
	[.tokens[].objects[] | select(.class == "private-key" and
	.label == "fw") | .id] | if length == 1 then .[0] else empty end')
[ -n "$id" ] || die "cannot find the CKA_ID of $key"

# COUNT manifests that differ only in their version, each naming one tiny
# image, and the SHA-256 of each one's PAE: the digest otatool signs. All
# made outside the timing.
echo "== making $count manifests and digests in $work" >&2
head -c 4096 /dev/zero >"$work/m/app.bin"
manifests=()
for ((i = 1; i <= count; i++)); do
	"$otatool" manifest --name bench --release-version "1.0.$i" \
		--hardware board --image "app:application:$work/m/app.bin" \
		--git-commit "$commit" -o "$work/m/m_$i.json" -q ||
		die "otatool manifest failed ($i)"
	pae "$work/m/m_$i.json" | openssl dgst -sha256 -binary \
		>"$work/p11/digest_$i"
	manifests+=("$work/m/m_$i.json")
done
cat "$work"/m/* "$work"/p11/* >/dev/null # page cache warm

o_wall="" o_rss="" p_wall="" w="" rss=""
for ((r = 1; r <= runs; r++)); do
	echo "== run $r/$runs: otatool sign, $count manifests" >&2
	rm -f "$work"/m/m_*.signed.json
	measure w rss "$otatool" sign --key "$key" --no-image-check -q \
		"${manifests[@]}"
	o_wall=$(min "$o_wall" "$w")
	o_rss=$(max "$o_rss" "$rss")
	n=$(find "$work/m" -name 'm_*.signed.json' | wc -l)
	[ "$n" = "$count" ] || die "otatool sign wrote $n of $count signed manifests"

	echo "== run $r/$runs: pkcs11-tool --sign, $count calls" >&2
	rm -f "$work"/p11/sig_*
	t0=$EPOCHREALTIME
	for ((i = 1; i <= count; i++)); do
		pkcs11-tool --module "$module" --login --pin 1234 --sign \
			--mechanism ECDSA --id "$id" -i "$work/p11/digest_$i" \
			-o "$work/p11/sig_$i" 2>"$work/p11.log" ||
			die "pkcs11-tool --sign failed ($i): $(tr '\n' ' ' <"$work/p11.log")"
	done
	t1=$EPOCHREALTIME
	w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
	p_wall=$(min "$p_wall" "$w")

	# Outside the timing: a sample of both sides' signatures verifies
	# with openssl (first, middle, last).
	for i in 1 $(((count + 1) / 2)) "$count"; do
		check_signed "$work/m/m_$i.signed.json" "$work/m/m_$i.json" \
			"$pub" "$keyid"
		check_raw "$work/p11/sig_$i" "$work/p11/digest_$i" "$pub"
	done
done

echo "otatool: $otatool_src ($("$otatool" --version 2>/dev/null | head -n 1 || true))"
echo "pkcs11-tool: $(dpkg-query -W -f='opensc ${Version}' opensc 2>/dev/null || echo '?')"
echo "softhsm: $(softhsm2-util --version 2>/dev/null || echo '?') ($module)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "ecdsa-p256 over SHA-256 digests in a SoftHSM token; best wall time of $runs runs"
echo "sampled signatures (first, middle, last) checked with openssl"
echo
awk -v n="$count" -v ow="$o_wall" -v orss="$o_rss" -v pw="$p_wall" 'BEGIN {
	printf "%-44s  %6s  %9s  %9s  %8s\n", "", "count", "wall s", "sig/s",
		"RSS MiB"
	printf "%-44s  %6d  %9.3f  %9.1f  %8.1f\n",
		"otatool sign (one invocation)", n, ow, n / ow, orss / 1024
	printf "%-44s  %6d  %9.3f  %9.1f  %8s\n",
		"pkcs11-tool --sign (one call per signature)", n, pw, n / pw, "-"
	printf "\nsign-hsm %d signatures: otatool %.0f/s, pkcs11-tool %.0f/s, %.2fx faster\n",
		n, n / ow, n / pw, pw / ow }'
