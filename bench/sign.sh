#!/usr/bin/env bash
# Benchmark, not a test: times `otatool sign` of a manifest that names one
# large image (sign re-hashes every image before signing), with a key file
# and with a key in a SoftHSM token, beside `openssl dgst -sha256` of the
# same file, and records each tool's peak RSS. Prints a table and a summary
# line per size and key; fails only if a command fails, a digest differs or
# a signature does not verify with openssl. See bench/README.md.
#
#   OTATOOL=path          binary to measure (default: build with scripts/build)
#   BENCH_SIZES_MIB="N.." image sizes, in MiB (default "256 1024")
#   BENCH_RUNS=N          runs per tool and size, best wall time kept (default 3)
#   BENCH_DIR=DIR         scratch directory (default bench/out)
#   BENCH_KEEP=1          keep the scratch images, manifests, keys and token
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

bench_setup sign

commit=0123456789abcdef0123456789abcdef01234567 # fixed: git not measured
ptype=application/vnd.otatool.manifest+json

# keyid PUB.pem: SHA-256 of the DER SubjectPublicKeyInfo, as otatool writes it
keyid() {
	openssl pkey -pubin -in "$1" -outform DER | openssl dgst -sha256 -r |
		cut -d' ' -f1
}

sig_fail() { # SIGNED WHAT
	echo "bench/sign.sh: SIGNATURE CHECK FAILED: $1: $2" >&2
	exit 1
}

# check_signed SIGNED MANIFEST PUB.pem: the envelope's payload is MANIFEST
# byte for byte, and its one signature is an ecdsa-p256-sha256 signature by
# PUB of the DSSE PAE, checked by openssl alone (otatool-signature(5)).
check_signed() {
	local signed=$1 manifest=$2 pub=$3 w=$scratch/sign-check
	local n alg id want
	made+=("$w.payload" "$w.pae" "$w.sig" "$w.txt")
	[ -s "$signed" ] || sig_fail "$signed" "not written"
	[ "$(jq -r .payloadType "$signed")" = "$ptype" ] || sig_fail "$signed" "payloadType"
	n=$(jq -r '.signatures | length' "$signed")
	[ "$n" = 1 ] || sig_fail "$signed" "$n signatures, expected 1"
	alg=$(jq -r '.signatures[0].algorithm' "$signed")
	[ "$alg" = ecdsa-p256-sha256 ] || sig_fail "$signed" "algorithm $alg"
	id=$(jq -r '.signatures[0].keyid' "$signed")
	want=$(keyid "$pub")
	[ "$id" = "$want" ] || sig_fail "$signed" "keyid $id, expected $want"
	jq -r .payload "$signed" | base64 -d >"$w.payload"
	cmp -s "$w.payload" "$manifest" || sig_fail "$signed" "payload is not $manifest"
	printf 'DSSEv1 %d %s %d ' ${#ptype} "$ptype" \
		"$(stat -c %s "$w.payload")" >"$w.pae"
	cat "$w.payload" >>"$w.pae"
	jq -r '.signatures[0].sig' "$signed" | base64 -d >"$w.sig"
	openssl dgst -sha256 -verify "$pub" -signature "$w.sig" "$w.pae" \
		>"$w.txt" 2>&1 || sig_fail "$signed" "openssl: $(tr '\n' ' ' <"$w.txt")"
}

tf=$scratch/sign-time.txt
made+=("$tf")

# Run a copy: others may rebuild build/otatool while this runs.
otatool_src=$otatool
otatool=$scratch/sign-otatool
made+=("$otatool")
cp -- "$otatool_src" "$otatool"

# Keys: one in a file, one in a fresh SoftHSM token in the scratch directory
# (a kept token of an earlier run is replaced, so the label stays unique).
filekey=$scratch/sign-key.pem
filepub=$scratch/sign-key.pub.pem
tokpub=$scratch/sign-token.pub.pem
tokkey='pkcs11:token=bench;object=fw'
made+=("$filekey" "$filepub" "$tokpub")
rm -f -- "$filekey" "$filepub" "$tokpub"
rm -rf -- "$tokdir"
mkdir -p "$tokdir/tokens"
printf '%s\n' "directories.tokendir = $tokdir/tokens" \
	"objectstore.backend = file" "log.level = ERROR" >"$tokdir/softhsm2.conf"
export SOFTHSM2_CONF=$tokdir/softhsm2.conf
export OTATOOL_PKCS11_MODULE=$module OTATOOL_PKCS11_PIN=1234
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 \
	>/dev/null || die "softhsm2-util --init-token failed"
"$otatool" keys generate --type ecdsa-p256 --key "$filekey" -q ||
	die "otatool keys generate (file) failed"
"$otatool" keys generate --type ecdsa-p256 --key "$tokkey" -q ||
	die "otatool keys generate (token) failed"
"$otatool" keys export-public "$tokkey" -o "$tokpub" -q ||
	die "otatool keys export-public (token) failed"

declare -A f_wall f_rss t_wall t_rss o_wall o_rss

bench_size() { # MIB
	local mib=$1 img=$scratch/sign-image-$1.bin
	local m=$scratch/sign-$1.json
	local fs=$scratch/sign-$1.file.signed.json
	local ts=$scratch/sign-$1.token.signed.json
	local i w r ours theirs
	made+=("$img" "$m" "$fs" "$ts" "$scratch/sign-openssl-$mib.txt")

	echo "== $mib MiB: writing $img" >&2
	make_image "$img" "$mib"
	rm -f "$m"
	# The manifest is made once, outside the timing: sign is measured.
	"$otatool" manifest --name bench --release-version 1.0.0 \
		--hardware board --image "app:application:$img" \
		--git-commit "$commit" -o "$m" -q || die "otatool manifest failed"
	cat "$img" >/dev/null # warm the page cache: every tool reads from it

	f_wall[$mib]="" t_wall[$mib]="" o_wall[$mib]=""
	f_rss[$mib]="" t_rss[$mib]="" o_rss[$mib]=""
	for ((i = 1; i <= runs; i++)); do
		echo "== $mib MiB: run $i/$runs" >&2
		rm -f "$fs" "$ts"
		measure w r "$otatool" sign --key "$filekey" "$m" -o "$fs" -q
		f_wall[$mib]=$(min "${f_wall[$mib]}" "$w")
		f_rss[$mib]=$(max "${f_rss[$mib]}" "$r")

		measure w r "$otatool" sign --key "$tokkey" "$m" -o "$ts" -q
		t_wall[$mib]=$(min "${t_wall[$mib]}" "$w")
		t_rss[$mib]=$(max "${t_rss[$mib]}" "$r")

		measure w r openssl dgst -sha256 -r "$img" \
			>"$scratch/sign-openssl-$mib.txt"
		o_wall[$mib]=$(min "${o_wall[$mib]}" "$w")
		o_rss[$mib]=$(max "${o_rss[$mib]}" "$r")

		# Outside the timing: the image sign re-hashed is the one the
		# manifest names, and both signatures verify with openssl.
		ours=$(jq -r '.images[0].digest.value' "$m")
		theirs=$(cut -d' ' -f1 "$scratch/sign-openssl-$mib.txt")
		if [ "$ours" != "$theirs" ]; then
			echo "bench/sign.sh: DIGEST MISMATCH at $mib MiB" >&2
			echo "  manifest: $ours" >&2
			echo "  openssl:  $theirs" >&2
			exit 1
		fi
		check_signed "$fs" "$m" "$filepub"
		check_signed "$ts" "$m" "$tokpub"
	done

	# Sign must really re-hash the whole image: with its last byte
	# changed, it has to refuse the manifest. The byte is put back.
	local last
	last=$(tail -c 1 "$img" | od -An -tu1 | tr -d ' ')
	put_byte "$img" $((mib * 1048576 - 1)) $(((last + 1) % 256))
	rm -f "$fs"
	if "$otatool" sign --key "$filekey" "$m" -o "$fs" -q 2>/dev/null; then
		die "sign accepted $m after its image changed: images not re-hashed"
	fi
	put_byte "$img" $((mib * 1048576 - 1)) "$last"
	[ "$keep" = 1 ] || rm -f "$img"
}

for mib in "${sizes[@]}"; do
	bench_size "$mib"
done

echo "otatool: $otatool_src ($("$otatool" --version 2>/dev/null | head -n 1 || true))"
echo "openssl: $(openssl version)"
echo "softhsm: $(softhsm2-util --version 2>/dev/null || echo '?') ($module)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "best wall time of $runs runs, max peak RSS; page cache warm; both"
echo "signatures checked with openssl dgst -sha256 -verify"
echo "targets: sign <= 1.15x openssl dgst -sha256; peak RSS <= 16 MiB and the same for every size"
echo
hdr='%8s  %10s  %10s  %10s  %8s  %8s  %10s  %10s  %10s\n'
# shellcheck disable=SC2059 # the format is the constant above
printf "$hdr" "size" "sign(file)" "sign(tok)" "openssl" "file/" "tok/" \
	"sign(file)" "sign(tok)" "openssl"
# shellcheck disable=SC2059
printf "$hdr" "MiB" "s" "s" "s" "openssl" "openssl" "RSS MiB" "RSS MiB" \
	"RSS MiB"
for mib in "${sizes[@]}"; do
	awk -v m="$mib" -v fw="${f_wall[$mib]}" -v tw="${t_wall[$mib]}" \
		-v ow="${o_wall[$mib]}" -v fr="${f_rss[$mib]}" \
		-v tr="${t_rss[$mib]}" -v sr="${o_rss[$mib]}" 'BEGIN {
		printf "%8d  %10.3f  %10.3f  %10.3f  %7.2fx  %7.2fx  %10.1f  %10.1f  %10.1f\n",
			m, fw, tw, ow, fw / ow, tw / ow,
			fr / 1024, tr / 1024, sr / 1024 }'
done
echo
for mib in "${sizes[@]}"; do
	awk -v m="$mib" -v fw="${f_wall[$mib]}" -v tw="${t_wall[$mib]}" \
		-v ow="${o_wall[$mib]}" -v fr="${f_rss[$mib]}" \
		-v tr="${t_rss[$mib]}" 'BEGIN {
		printf "sign %d MiB (file key): %.2fx openssl dgst -sha256, peak RSS %.1f MiB\n",
			m, fw / ow, fr / 1024
		printf "sign %d MiB (token): %.2fx openssl dgst -sha256, peak RSS %.1f MiB\n",
			m, tw / ow, tr / 1024 }'
done
