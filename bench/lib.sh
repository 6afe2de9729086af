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
