#!/usr/bin/env bash
# Benchmark, not a test: times `otatool manifest` over a large image beside
# `openssl dgst -sha256` of the same file, and records both tools' peak RSS.
# Prints a table and a summary line; fails only if a command fails or the
# two digests differ. See bench/README.md.
#
#   OTATOOL=path        binary to measure (default: build with scripts/build)
#   BENCH_SIZE_MIB=N    main image size (default 1024)
#   BENCH_SMALL_MIB=N   second size, to show RSS is flat (default 256)
#   BENCH_RUNS=N        runs per tool and size, best wall time kept (default 3)
#   BENCH_DIR=DIR       scratch directory (default bench/out)
#   BENCH_KEEP=1        keep the scratch images and manifests
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

size_big=${BENCH_SIZE_MIB:-1024}
size_small=${BENCH_SMALL_MIB:-256}
runs=${BENCH_RUNS:-3}
posint BENCH_SIZE_MIB "$size_big"
posint BENCH_SMALL_MIB "$size_small"
posint BENCH_RUNS "$runs"
keep=${BENCH_KEEP:-0}

# OTATOOL and BENCH_DIR are relative to the caller's directory, not the root.
otatool=${OTATOOL:-}
[ -z "$otatool" ] || otatool=$(realpath -- "$otatool")
scratch=${BENCH_DIR:-}
[ -z "$scratch" ] || scratch=$(realpath -m -- "$scratch")

cd "$(dirname "$0")/.."
scratch=${scratch:-$PWD/bench/out}

# GNU time (Debian package `time`) gives peak RSS; bash's `time` keyword
# cannot. scripts/deps installs it, and the build dependencies, when missing.
if [ -z "$otatool" ]; then
	scripts/deps time
elif [ ! -x /usr/bin/time ] || ! command -v jq >/dev/null ||
	! command -v openssl >/dev/null; then
	scripts/deps time
fi
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is missing"

if [ -z "$otatool" ]; then
	dir=$(scripts/build) || die "scripts/build failed (a source edit in progress?); retry later"
	otatool=$PWD/$dir/otatool
fi
[ -x "$otatool" ] || die "no executable otatool at $otatool"

mkdir -p "$scratch"
made=()
cleanup() {
	[ "$keep" = 1 ] && return 0
	[ ${#made[@]} -eq 0 ] || rm -f -- "${made[@]}"
	rmdir -- "$scratch" 2>/dev/null || true
}
trap cleanup EXIT

commit=0123456789abcdef0123456789abcdef01234567 # fixed: git not measured

declare -A o_wall o_rss s_wall s_rss

bench_size() { # MIB
	local mib=$1 img=$scratch/image-$1.bin out=$scratch/manifest-$1.json
	local i w r ours theirs
	made+=("$img" "$out" "$scratch/openssl-$mib.txt")

	echo "== $mib MiB: writing $img" >&2
	make_image "$img" "$mib"
	cat "$img" >/dev/null # warm the page cache: both tools read from it

	o_wall[$mib]="" s_wall[$mib]="" o_rss[$mib]="" s_rss[$mib]=""
	for ((i = 1; i <= runs; i++)); do
		echo "== $mib MiB: run $i/$runs" >&2
		rm -f "$out"
		measure w r "$otatool" manifest --name bench \
			--release-version 1.0.0 --hardware board \
			--image "app:application:$img" --git-commit "$commit" \
			-o "$out" -q
		o_wall[$mib]=$(min "${o_wall[$mib]}" "$w")
		o_rss[$mib]=$(max "${o_rss[$mib]}" "$r")

		measure w r openssl dgst -sha256 -r "$img" \
			>"$scratch/openssl-$mib.txt"
		s_wall[$mib]=$(min "${s_wall[$mib]}" "$w")
		s_rss[$mib]=$(max "${s_rss[$mib]}" "$r")

		ours=$(jq -r '.images[0].digest.value' "$out")
		theirs=$(cut -d' ' -f1 "$scratch/openssl-$mib.txt")
		if [ "$ours" != "$theirs" ]; then
			echo "bench/manifest.sh: DIGEST MISMATCH at $mib MiB" >&2
			echo "  otatool: $ours" >&2
			echo "  openssl: $theirs" >&2
			exit 1
		fi
	done
	[ "$keep" = 1 ] || rm -f "$img"
}

tf=$scratch/time.txt
made+=("$tf")

sizes=("$size_small" "$size_big")
[ "$size_small" != "$size_big" ] || sizes=("$size_big")
for mib in "${sizes[@]}"; do
	bench_size "$mib"
done

echo "otatool: $otatool ($("$otatool" --version 2>/dev/null | head -n 1 || true))"
echo "openssl: $(openssl version)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "best wall time of $runs runs, max peak RSS; page cache warm"
echo
printf '%8s  %10s  %10s  %6s  %12s  %12s\n' "size MiB" "otatool s" \
	"openssl s" "ratio" "otatool MiB" "openssl MiB"
for mib in "${sizes[@]}"; do
	awk -v m="$mib" -v ow="${o_wall[$mib]}" -v sw="${s_wall[$mib]}" \
		-v orss="${o_rss[$mib]}" -v srss="${s_rss[$mib]}" 'BEGIN {
		printf "%8d  %10.3f  %10.3f  %5.2fx  %12.1f  %12.1f\n",
			m, ow, sw, ow / sw, orss / 1024, srss / 1024 }'
done
echo
awk -v m="$size_big" -v ow="${o_wall[$size_big]}" -v sw="${s_wall[$size_big]}" \
	-v orss="${o_rss[$size_big]}" 'BEGIN {
	printf "manifest %d MiB: %.2fx openssl dgst -sha256, peak RSS %.1f MiB\n",
		m, ow / sw, orss / 1024 }'
