# Helpers shared by the benchmarks in bench/: sourced, not run.
# shellcheck shell=bash

# die MESSAGE...: the message on stderr, named after the benchmark; exit 1
die() {
	echo "bench/$(basename "$0"): $*" >&2
	exit 1
}

# posint NAME VALUE: refuse a setting that is not a positive integer
posint() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, not '$2'"
}

# make_image FILE MIB: fast, incompressible, the same every time
make_image() {
	local zero=00000000000000000000000000000000
	head -c "$(($2 * 1048576))" /dev/zero |
		openssl enc -aes-128-ctr -K "$zero" -iv "$zero" >"$1"
}

# put_byte FILE OFFSET VALUE: overwrite one byte in place
put_byte() {
	printf '%b' "\\0$(printf '%03o' "$3")" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# get_byte FILE OFFSET: one byte's value, in decimal
get_byte() {
	od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' '
}

# measure OUT_WALL OUT_RSS CMD...: one run under GNU time, whose report goes
# to the file named by $tf. Wall time is taken from bash's EPOCHREALTIME
# (microseconds) around the run, since %e only has centiseconds; peak RSS is
# GNU time's %M (KiB).
# shellcheck disable=SC2154 # tf: set by the benchmark that sources this
measure() {
	local -n _wall=$1 _rss=$2
	shift 2
	local t0 t1 m
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%e %M' -o "$tf" "$@" ||
		die "failed (status $?): $* ($(tail -n 2 "$tf" | tr '\n' ' '))"
	t1=$EPOCHREALTIME
	read -r _ m <"$tf"
	_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
	_rss=$m
}

# min/max A B, where an empty A means no value yet
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a ? b : a) }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b > a ? b : a) }'; }

# bench_setup NAME: what the size-sweeping benchmarks share: the settings
# (BENCH_SIZES_MIB, BENCH_RUNS, BENCH_KEEP, OTATOOL, BENCH_DIR), the tools
# (scripts/deps installs what is missing), the otatool to measure (built
# when OTATOOL is not given), and a scratch directory with a token
# directory NAME-softhsm, removed on exit unless BENCH_KEEP=1.
# Sets sizes[], runs, keep, otatool, scratch, module, made[] and tokdir.
bench_setup() {
	local dir

	read -r -a sizes <<<"${BENCH_SIZES_MIB:-256 1024}"
	[ ${#sizes[@]} -gt 0 ] || die "BENCH_SIZES_MIB is empty"
	for mib in "${sizes[@]}"; do
		posint BENCH_SIZES_MIB "$mib"
	done
	runs=${BENCH_RUNS:-3}
	posint BENCH_RUNS "$runs"
	keep=${BENCH_KEEP:-0}

	# OTATOOL and BENCH_DIR are relative to the caller's directory.
	otatool=${OTATOOL:-}
	[ -z "$otatool" ] || otatool=$(realpath -- "$otatool")
	scratch=${BENCH_DIR:-}
	[ -z "$scratch" ] || scratch=$(realpath -m -- "$scratch")
	cd "$(dirname "$0")/.." || die "cannot enter the repository"
	scratch=${scratch:-$PWD/bench/out}
	module=/usr/lib/softhsm/libsofthsm2.so

	# GNU time (Debian package `time`) gives peak RSS; bash's `time`
	# keyword cannot.
	if [ -z "$otatool" ] || [ ! -x /usr/bin/time ] || [ ! -e "$module" ] ||
		! command -v softhsm2-util >/dev/null ||
		! command -v jq >/dev/null || ! command -v openssl >/dev/null; then
		scripts/deps time
	fi
	[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is missing"
	[ -e "$module" ] || die "SoftHSM ($module) is missing"
	if [ -z "$otatool" ]; then
		dir=$(scripts/build) ||
			die "scripts/build failed (a source edit in progress?); retry later"
		otatool=$PWD/$dir/otatool
	fi
	[ -x "$otatool" ] || die "no executable otatool at $otatool"

	mkdir -p "$scratch"
	made=()
	tokdir=$scratch/$1-softhsm
	trap bench_cleanup EXIT
}

bench_cleanup() {
	[ "$keep" = 1 ] && return 0
	[ ${#made[@]} -eq 0 ] || rm -rf -- "${made[@]}"
	rm -rf -- "$tokdir"
	rmdir -- "$scratch" 2>/dev/null || true
}
