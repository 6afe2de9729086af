#!/usr/bin/env bash
# Benchmark, not a test: times `otatool package` of a manifest that names one
# large image, signed with a key in a SoftHSM token (package copies the image
# into the package while hashing it and checks the manifest's digest), then
# `otatool verify` of that package, and the one-shot flow from a release
# file, beside `openssl dgst -sha256` of the same file and, for the disk's
# share, a copy of it to a new file with fsync; records each peak RSS. Prints a table and a summary line per size and command; fails only if
# a command fails or a result is wrong (verify refuses, extract differs from
# the image, a changed image or package is accepted). See bench/README.md.
#
#   OTATOOL=path          binary to measure (default: build with scripts/build)
#   BENCH_SIZES_MIB="N.." image sizes, in MiB (default "256 1024")
#   BENCH_RUNS=N          runs per command and size, best wall time kept (default 3)
#   BENCH_DIR=DIR         scratch directory (default bench/out)
#   BENCH_KEEP=1          keep the scratch images, packages, keys and token
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

bench_setup package

commit=0123456789abcdef0123456789abcdef01234567 # fixed: git not measured

tf=$scratch/package-time.txt
made+=("$tf")

# Run a copy: others may rebuild build/otatool while this runs.
otatool_src=$otatool
otatool=$scratch/package-otatool
made+=("$otatool")
cp -- "$otatool_src" "$otatool"

# A P-256 key in a fresh SoftHSM token in the scratch directory (a kept
# token of an earlier run is replaced, so the label stays unique).
tokkey='pkcs11:token=bench;object=fw'
pub=$scratch/package-token.pub.pem
made+=("$pub")
rm -f -- "$pub"
rm -rf -- "$tokdir"
mkdir -p "$tokdir/tokens"
printf '%s\n' "directories.tokendir = $tokdir/tokens" \
	"objectstore.backend = file" "log.level = ERROR" >"$tokdir/softhsm2.conf"
export SOFTHSM2_CONF=$tokdir/softhsm2.conf
export OTATOOL_PKCS11_MODULE=$module OTATOOL_PKCS11_PIN=1234
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 \
	>/dev/null || die "softhsm2-util --init-token failed"
"$otatool" keys generate --type ecdsa-p256 --key "$tokkey" -q >/dev/null ||
	die "otatool keys generate (token) failed"
"$otatool" keys export-public "$tokkey" -o "$pub" -q ||
	die "otatool keys export-public (token) failed"

declare -A p_wall p_rss v_wall v_rss r_wall r_rss o_wall o_rss c_wall

bench_size() { # MIB
	local mib=$1 img=$scratch/package-image-$1.bin
	local m=$scratch/package-$1.json rel=$scratch/package-release-$1.yaml
	local pkg=$scratch/package-$1.otapkg rpkg=$scratch/package-release-$1.otapkg
	local ex=$scratch/package-extract-$1 ssl=$scratch/package-openssl-$1.txt
	local copy=$scratch/package-copy-$1.bin
	local i w r ours theirs last size
	made+=("$img" "$m" "$rel" "$pkg" "$rpkg" "$ex" "$ssl" "$copy")

	echo "== $mib MiB: writing $img" >&2
	make_image "$img" "$mib"
	rm -f "$m"
	# The manifest is made once, outside the timing: package is measured.
	"$otatool" manifest --name bench --release-version 1.0.0 \
		--hardware board --image "app:application:$img" \
		--git-commit "$commit" -o "$m" -q || die "otatool manifest failed"
	# The same release as a release file, for the one-shot flow (manifest,
	# sign and package reading the image once). git.commit is given, so
	# git is not read.
	printf '%s\n' "name: bench" "version: 1.0.0" "hardware:" "  - board" \
		"images:" "  - name: app" "    kind: application" \
		"    file: \"$img\"" "git:" "  commit: \"$commit\"" >"$rel"
	cat "$img" >/dev/null # warm the page cache: every tool reads from it

	p_wall[$mib]="" v_wall[$mib]="" r_wall[$mib]="" o_wall[$mib]="" c_wall[$mib]=""
	p_rss[$mib]="" v_rss[$mib]="" r_rss[$mib]="" o_rss[$mib]=""
	for ((i = 1; i <= runs; i++)); do
		echo "== $mib MiB: run $i/$runs" >&2
		rm -f "$pkg" "$rpkg"
		sync # no earlier write-back in this run's fsync
		measure w r "$otatool" package --key "$tokkey" -o "$pkg" "$m" -q
		p_wall[$mib]=$(min "${p_wall[$mib]}" "$w")
		p_rss[$mib]=$(max "${p_rss[$mib]}" "$r")

		# Exit status 0 only if the package verified: the check is the
		# timed run itself.
		measure w r "$otatool" verify -q --trust-key "$pub" "$pkg"
		v_wall[$mib]=$(min "${v_wall[$mib]}" "$w")
		v_rss[$mib]=$(max "${v_rss[$mib]}" "$r")

		sync
		measure w r "$otatool" package --key "$tokkey" -o "$rpkg" "$rel" -q
		r_wall[$mib]=$(min "${r_wall[$mib]}" "$w")
		r_rss[$mib]=$(max "${r_rss[$mib]}" "$r")

		measure w r openssl dgst -sha256 -r "$img" >"$ssl"
		o_wall[$mib]=$(min "${o_wall[$mib]}" "$w")
		o_rss[$mib]=$(max "${o_rss[$mib]}" "$r")

		# What writing the image out costs on this disk: package writes
		# it into the package and fsyncs, which hashing alone does not.
		rm -f "$copy"
		sync
		measure w r dd if="$img" of="$copy" bs=1M conv=fsync status=none
		c_wall[$mib]=$(min "${c_wall[$mib]}" "$w")
		rm -f "$copy"

		# Outside the timing: the manifest's digest is openssl's, and
		# the one-shot package verifies too.
		ours=$(jq -r '.images[0].digest.value' "$m")
		theirs=$(cut -d' ' -f1 "$ssl")
		if [ "$ours" != "$theirs" ]; then
			echo "bench/package.sh: DIGEST MISMATCH at $mib MiB" >&2
			echo "  manifest: $ours" >&2
			echo "  openssl:  $theirs" >&2
			exit 1
		fi
		"$otatool" verify -q --trust-key "$pub" "$rpkg" ||
			die "verify refused the release-file package $rpkg"
	done

	# Once per size, outside the timing: the image extract writes out of
	# the last package is the source byte for byte.
	rm -rf -- "$ex"
	"$otatool" extract -q --trust-key "$pub" -o "$ex" "$pkg" ||
		die "otatool extract failed on $pkg"
	cmp -- "$img" "$ex/app.bin" || die "EXTRACT MISMATCH at $mib MiB"
	rm -rf -- "$ex"

	# Package must really hash the image it copies: with the image's last
	# byte changed, it has to refuse the manifest. And verify must really
	# read the payload: with the package's last byte changed, it has to
	# refuse the package. Both bytes are put back.
	size=$((mib * 1048576))
	last=$(get_byte "$img" $((size - 1)))
	put_byte "$img" $((size - 1)) $(((last + 1) % 256))
	rm -f "$rpkg"
	if "$otatool" package --key "$tokkey" -o "$rpkg" "$m" -q 2>/dev/null; then
		die "package accepted $m after its image changed: image not hashed"
	fi
	put_byte "$img" $((size - 1)) "$last"
	size=$(stat -c %s "$pkg")
	last=$(get_byte "$pkg" $((size - 1)))
	put_byte "$pkg" $((size - 1)) $(((last + 1) % 256))
	if "$otatool" verify -q --trust-key "$pub" "$pkg" 2>/dev/null; then
		die "verify accepted $pkg with its last byte changed"
	fi
	put_byte "$pkg" $((size - 1)) "$last"
	[ "$keep" = 1 ] || rm -f -- "$img" "$pkg" "$rpkg"
}

for mib in "${sizes[@]}"; do
	bench_size "$mib"
done

echo "otatool: $otatool_src ($("$otatool" --version 2>/dev/null | head -n 1 || true))"
echo "openssl: $(openssl version)"
echo "softhsm: $(softhsm2-util --version 2>/dev/null || echo '?') ($module)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "best wall time of $runs runs, max peak RSS; page cache warm; key in SoftHSM"
echo "package: from a manifest; release: one-shot from a release file; both write and fsync the package"
echo "copy: dd bs=1M conv=fsync of the image to a new file, the cost of writing it out"
echo "checked: every package verifies, extract equals the image, a changed image or package is refused"
echo "targets: package and verify <= 1.15x openssl dgst -sha256; peak RSS <= 16 MiB and the same for every size"
echo
hdr='%6s %8s %8s %8s %8s %8s %9s %9s %9s %9s %8s %8s %8s %8s\n'
# shellcheck disable=SC2059 # the format is the constant above
printf "$hdr" "size" "package" "verify" "release" "openssl" "copy" \
	"package/" "verify/" "release/" "package/" \
	"package" "verify" "release" "openssl"
# shellcheck disable=SC2059
printf "$hdr" "MiB" "s" "s" "s" "s" "s" "openssl" "openssl" "openssl" \
	"copy" "RSS MiB" "RSS MiB" "RSS MiB" "RSS MiB"
for mib in "${sizes[@]}"; do
	awk -v m="$mib" -v pw="${p_wall[$mib]}" -v vw="${v_wall[$mib]}" \
		-v rw="${r_wall[$mib]}" -v ow="${o_wall[$mib]}" \
		-v cw="${c_wall[$mib]}" \
		-v pr="${p_rss[$mib]}" -v vr="${v_rss[$mib]}" \
		-v rr="${r_rss[$mib]}" -v sr="${o_rss[$mib]}" 'BEGIN {
		printf "%6d %8.3f %8.3f %8.3f %8.3f %8.3f %8.2fx %8.2fx %8.2fx %8.2fx %8.1f %8.1f %8.1f %8.1f\n",
			m, pw, vw, rw, ow, cw, pw / ow, vw / ow, rw / ow, pw / cw,
			pr / 1024, vr / 1024, rr / 1024, sr / 1024 }'
done
echo
for mib in "${sizes[@]}"; do
	awk -v m="$mib" -v pw="${p_wall[$mib]}" -v vw="${v_wall[$mib]}" \
		-v rw="${r_wall[$mib]}" -v ow="${o_wall[$mib]}" \
		-v pr="${p_rss[$mib]}" -v vr="${v_rss[$mib]}" \
		-v rr="${r_rss[$mib]}" -v cw="${c_wall[$mib]}" 'BEGIN {
		printf "package %d MiB (token): %.2fx openssl dgst -sha256 (%.2fx the copy), peak RSS %.1f MiB\n",
			m, pw / ow, pw / cw, pr / 1024
		printf "verify %d MiB: %.2fx openssl dgst -sha256, peak RSS %.1f MiB\n",
			m, vw / ow, vr / 1024
		printf "package %d MiB (release file, token): %.2fx openssl dgst -sha256, peak RSS %.1f MiB\n",
			m, rw / ow, rr / 1024 }'
done
