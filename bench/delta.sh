#!/usr/bin/env bash
# Benchmark, not a test: patch sizes on real firmware pairs. Per pair (old
# image, new image) it makes a patch with bsdiff 4.3, `xdelta3 -9` and
# `zstd -19 --patch-from`, and with otatool (`package --delta-from`, the
# patch as the package stores it), applies each patch to the old image
# (otatool: `extract --base`, every digest checked), and compresses the new
# image whole with `xz -9` and `gzip -9` (what a full update costs); it
# times every encode and apply, records the applier's peak RSS, and checks
# that every output is the new image byte for byte (cmp). Prints a table,
# totals and ratios to bsdiff; fails only when a tool fails or rebuilds
# the wrong bytes (the row says FAILED). See bench/README.md.
#
# Pairs: firmware built from this repository's own code (bench/firmware,
# src/device) at release variants, plus every NAME/{old,new}.bin under
# BENCH_DELTA_PAIRS.
#
#   BENCH_DELTA_PAIRS=DIR   also measure DIR/*/old.bin -> new.bin
#   BENCH_DELTA_REVS="A B"  one more pair: src/device at git revision A, then B
#   BENCH_DELTA_OWN=0       skip the pairs built from our own code
#   BENCH_DELTA_SAVE=DIR    keep our own pairs as DIR/NAME/{old.bin,new.bin,README}
#   BENCH_QUICK=1           a quick look: 2 own pairs, DIR pairs up to 64 KiB, 1 run
#   BENCH_RUNS=N            runs per encode and apply, best time kept (default 3)
#   BENCH_TIMEOUT=S         limit per command, in seconds (default 300)
#   BENCH_DIR=DIR           scratch directory (default bench/out)
#   BENCH_KEEP=1            keep the scratch images and patches
#   OTATOOL=PATH            the otatool binary (default: scripts/build's)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

t_start=$EPOCHREALTIME
quick=${BENCH_QUICK:-0}
[[ $quick =~ ^[01]$ ]] || die "BENCH_QUICK must be 0 or 1, not '$quick'"
if [ "$quick" = 1 ]; then
	runs=${BENCH_RUNS:-1}
else
	runs=${BENCH_RUNS:-3}
fi
posint BENCH_RUNS "$runs"
limit=${BENCH_TIMEOUT:-300}
posint BENCH_TIMEOUT "$limit"
keep=${BENCH_KEEP:-0}
own=${BENCH_DELTA_OWN:-1}
[[ $own =~ ^[01]$ ]] || die "BENCH_DELTA_OWN must be 0 or 1, not '$own'"
read -r -a revs <<<"${BENCH_DELTA_REVS:-}"
[ ${#revs[@]} -eq 0 ] || [ ${#revs[@]} -eq 2 ] ||
	die "BENCH_DELTA_REVS takes two revisions, not '${BENCH_DELTA_REVS}'"

otatool=${OTATOOL:-}
[ -z "$otatool" ] || otatool=$(realpath -- "$otatool")

# Directories given by the caller are relative to the caller's directory.
pairs_dir=${BENCH_DELTA_PAIRS:-}
if [ -n "$pairs_dir" ]; then
	pairs_dir=$(realpath -- "$pairs_dir") ||
		die "BENCH_DELTA_PAIRS: no directory '${BENCH_DELTA_PAIRS}'"
	[ -d "$pairs_dir" ] || die "BENCH_DELTA_PAIRS: '$pairs_dir' is not a directory"
fi
save_dir=${BENCH_DELTA_SAVE:-}
[ -z "$save_dir" ] || save_dir=$(realpath -m -- "$save_dir")
scratch=${BENCH_DIR:-}
[ -z "$scratch" ] || scratch=$(realpath -m -- "$scratch")
cd "$(dirname "$0")/.." || die "cannot enter the repository"
scratch=${scratch:-$PWD/bench/out}

# Every tool is a Debian package; scripts/deps installs what is missing.
need=(/usr/bin/time bsdiff bspatch xdelta3 zstd xz gzip timeout cmp jq)
[ "$own" = 0 ] && [ ${#revs[@]} -eq 0 ] ||
	need+=(arm-none-eabi-gcc arm-none-eabi-objcopy)
for c in "${need[@]}"; do
	if ! command -v "$c" >/dev/null; then
		scripts/deps time bsdiff xdelta3 zstd xz-utils gzip \
			gcc-arm-none-eabi libnewlib-arm-none-eabi
		break
	fi
done
for c in "${need[@]}"; do
	command -v "$c" >/dev/null || die "$c is missing"
done
if [ -z "$otatool" ]; then
	otatool=$PWD/$(nice scripts/build | tail -n 1)/otatool ||
		die "building otatool failed"
fi
[ -x "$otatool" ] || die "no otatool binary at $otatool"

work=$scratch/delta
tf=$scratch/delta-time.txt
log=$scratch/delta-errors.txt
mkdir -p "$scratch"
rm -rf -- "$work"
mkdir -p "$work"
: >"$log"
cleanup() {
	[ "$keep" = 1 ] && return 0
	rm -rf -- "$work" "$tf"
	[ "$failures" -gt 0 ] || rm -f -- "$log"
	rmdir -- "$scratch" 2>/dev/null || true
}
failures=0
trap cleanup EXIT
# otatool's packages are signed: a throwaway key (Ed25519, 64 bytes).
"$otatool" keys generate -q --type ed25519 --key "$work/bench.pem" >/dev/null ||
	die "otatool keys generate failed"

# ---- the pairs ----

p_name=() p_old=() p_new=() p_what=()
add_pair() { # NAME OLD NEW WHAT
	p_name+=("$1")
	p_old+=("$2")
	p_new+=("$3")
	p_what+=("$4")
}

# fw NAME [--rev REV] [--no-gc-sections] [FLAG...]: builds the agent
# firmware variant NAME into $work/fw/NAME.bin (build.sh's options first)
fw_built=()
fw() {
	local name=$1 opts=()
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--rev)
			opts+=("$1" "$2")
			shift 2
			;;
		--no-gc-sections)
			opts+=("$1")
			shift
			;;
		*) break ;;
		esac
	done
	echo "== building firmware $name: ${opts[*]} $*" >&2
	nice bench/firmware/build.sh "${opts[@]}" "$work/fw/$name.bin" "$@" ||
		die "building firmware $name failed"
	fw_built+=("$name")
}

# own_pair NAME "WHAT" OLD_VARIANT NEW_VARIANT
own_pair() {
	add_pair "$1" "$work/fw/$3.bin" "$work/fw/$4.bin" "$2"
}

if [ "$own" = 1 ] || [ ${#revs[@]} -eq 2 ]; then
	mkdir -p "$work/fw"
fi
declare -A fw_desc
if [ "$own" = 1 ]; then
	# One flag set per release variant of the agent (bench/firmware/main.c).
	v142=(-DAGENT_VERSION='"1.4.2"')
	fw base "${v142[@]}"
	fw_desc[base]='1.4.2, -Os, gc-sections'
	fw patch -DAGENT_VERSION='"1.4.3"' -DAGENT_FRAME_TIMEOUT_MS=1500u
	fw_desc[patch]='1.4.3 (frame timeout 2000 -> 1500 ms)'
	fw shell -DAGENT_VERSION='"1.5.0"' -DAGENT_SHELL
	fw_desc[shell]='1.5.0 with the console shell (-DAGENT_SHELL)'
	own_pair agent-patch "agent patch release: version string and one constant" \
		base patch
	own_pair agent-feature "agent feature release: a console shell (newlib printf) enabled" \
		base shell
	if [ "$quick" = 0 ]; then
		fw o2 "${v142[@]}" -O2
		fw_desc[o2]='1.4.2, -O2'
		fw nogc --no-gc-sections "${v142[@]}"
		fw_desc[nogc]='1.4.2, without -ffunction-sections/--gc-sections'
		own_pair agent-Os-O2 "agent compiler options: -Os -> -O2" base o2
		own_pair agent-gc-sections "agent link options: --gc-sections off -> on" \
			nogc base
	fi
fi
if [ ${#revs[@]} -eq 2 ]; then
	fw rev-a --rev "${revs[0]}" -DAGENT_VERSION='"1.4.2"'
	fw rev-b --rev "${revs[1]}" -DAGENT_VERSION='"1.4.2"'
	fw_desc[rev-a]="src/device at ${revs[0]} ($(git rev-parse --short "${revs[0]}^{commit}"))"
	fw_desc[rev-b]="src/device at ${revs[1]} ($(git rev-parse --short "${revs[1]}^{commit}"))"
	own_pair agent-revs "agent with src/device at ${revs[0]} -> ${revs[1]}" \
		rev-a rev-b
fi

if [ -n "$pairs_dir" ]; then
	n_dir=0
	for d in "$pairs_dir"/*/; do
		d=${d%/}
		if [ ! -f "$d/old.bin" ] || [ ! -f "$d/new.bin" ]; then
			continue
		fi
		n_dir=$((n_dir + 1))
		# Our own pairs saved by BENCH_DELTA_SAVE: this run built them.
		if [[ $(basename "$d") == otatool-* ]] &&
			printf '%s\n' "${p_name[@]}" | grep -qxF -- "$(basename "$d" | cut -c9-)"; then
			continue
		fi
		if [ "$quick" = 1 ] && [ "$(stat -c %s "$d/new.bin")" -gt 65536 ]; then
			continue
		fi
		# The README's first line, cut to fit the list of pairs
		what=$(head -n 1 "$d/README" 2>/dev/null || true)
		[ ${#what} -le 96 ] || what="${what:0:93}..."
		add_pair "$(basename "$d")" "$d/old.bin" "$d/new.bin" "${what:-$d}"
	done
	[ "$n_dir" -gt 0 ] ||
		die "BENCH_DELTA_PAIRS: no NAME/old.bin and NAME/new.bin under $pairs_dir"
fi
[ ${#p_name[@]} -gt 0 ] ||
	die "no pairs: BENCH_DELTA_OWN=0 needs BENCH_DELTA_PAIRS or BENCH_DELTA_REVS"

# Our own pairs, saved in the layout BENCH_DELTA_PAIRS reads.
if [ -n "$save_dir" ]; then
	for i in "${!p_name[@]}"; do
		[[ ${p_old[$i]} == "$work/fw/"* ]] || continue
		o=$(basename "${p_old[$i]}" .bin)
		n=$(basename "${p_new[$i]}" .bin)
		d=$save_dir/otatool-${p_name[$i]}
		mkdir -p "$d"
		cp -- "${p_old[$i]}" "$d/old.bin"
		cp -- "${p_new[$i]}" "$d/new.bin"
		{
			echo "otatool's own benchmark firmware (bench/firmware: update agent + src/device verifier), ${p_what[$i]#agent }."
			echo "old: ${fw_desc[$o]}; new: ${fw_desc[$n]}"
			echo "repository: otatool at $(git rev-parse HEAD)$(git diff --quiet HEAD -- bench/firmware src/device || echo ' plus uncommitted changes')"
			echo "built by: bench/firmware/build.sh (BENCH_DELTA_SAVE of bench/delta.sh)"
			echo
			echo "old.bin: $(stat -c %s "$d/old.bin") bytes, sha256 $(sha256sum <"$d/old.bin" | cut -c1-64)"
			echo "new.bin: $(stat -c %s "$d/new.bin") bytes, sha256 $(sha256sum <"$d/new.bin" | cut -c1-64)"
			echo "toolchain: $(arm-none-eabi-gcc --version | head -n 1), newlib-nano"
			echo "target: Cortex-M4F (-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard), STM32F429-class memory map, arm-none-eabi-objcopy -O binary"
		} >"$d/README"
	done
fi

# ---- the tools ----

tools=(xz gzip bsdiff xdelta3 zstd otatool)
declare -A label=([xz]="xz -9 (full)" [gzip]="gzip -9 (full)"
	[bsdiff]="bsdiff 4.3" [xdelta3]="xdelta3 -9" [zstd]="zstd -19"
	[otatool]="otatool")

# timed OUT_WALL OUT_RSS STDOUT CMD...: runs CMD with stdout to STDOUT
# under GNU time (peak RSS, KiB) and a time limit; wall time from bash's
# EPOCHREALTIME. Returns CMD's status; its stderr goes to the error log.
timed() {
	local -n _w=$1 _r=$2
	local so=$3 t0 t1 st=0
	shift 3
	t0=$EPOCHREALTIME
	timeout "$limit" /usr/bin/time -f '%M' -o "$tf" "$@" >"$so" 2>>"$log" ||
		st=$?
	t1=$EPOCHREALTIME
	_w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
	_r=$(tail -n 1 "$tf" 2>/dev/null || echo 0)
	[[ $_r =~ ^[0-9]+$ ]] || _r=0
	return "$st"
}

# The commands of TOOL, run in the pair's directory: old.bin, new.bin.
# zstd needs a window as large as the old image; above its default
# (128 MiB) both sides need --long.
zlong=()
encode() { # TOOL OUT_WALL OUT_RSS
	case $1 in
	xz) timed "$2" "$3" patch xz -9 -c new.bin ;;
	gzip) timed "$2" "$3" patch gzip -9 -n -c new.bin ;;
	bsdiff) timed "$2" "$3" /dev/null bsdiff old.bin new.bin patch ;;
	xdelta3) timed "$2" "$3" /dev/null xdelta3 -9 -e -f -s old.bin new.bin patch ;;
	zstd) timed "$2" "$3" /dev/null zstd -19 -q -f "${zlong[@]}" \
		--patch-from=old.bin new.bin -o patch ;;
	otatool)
		# new.bin as a one-image release, a delta against ota-base
		timed "$2" "$3" /dev/null "$otatool" package -q \
			--key "$work/bench.pem" --alignment 16 \
			--delta-from ota-base -o new.otapkg new.yaml || return
		# the figure: image app's stored bytes (a patch, or the image
		# whole where a patch would not be smaller)
		local off len
		off=$("$otatool" inspect --json new.otapkg | jq '.images[0].offset')
		len=$("$otatool" inspect --json new.otapkg | jq '.images[0].stored_size')
		tail -c +$((off + 1)) new.otapkg | head -c "$len" >patch
		;;
	esac
}
apply() { # TOOL OUT_WALL OUT_RSS
	case $1 in
	xz) timed "$2" "$3" out xz -d -c patch ;;
	gzip) timed "$2" "$3" out gzip -d -c patch ;;
	bsdiff) timed "$2" "$3" /dev/null bspatch old.bin out patch ;;
	xdelta3) timed "$2" "$3" /dev/null xdelta3 -d -f -s old.bin patch out ;;
	zstd) timed "$2" "$3" /dev/null zstd -d -q -f "${zlong[@]}" \
		--patch-from=old.bin patch -o out ;;
	otatool)
		rm -rf ota-out
		timed "$2" "$3" /dev/null "$otatool" extract -q \
			--trust-key "$work/bench.pub.pem" --base ota-base \
			-o ota-out new.otapkg || return
		mv ota-out/app.bin out
		;;
	esac
}

# Results, keyed "pair index,tool": st is ok, FAILED or n/a.
declare -A r_st r_size r_enc r_app r_encrss r_apprss
for i in "${!p_name[@]}"; do
	d=$work/pair-$i
	mkdir -p "$d"
	cp -- "${p_old[$i]}" "$d/old.bin"
	cp -- "${p_new[$i]}" "$d/new.bin"
	mkdir -p "$d/ota-base"
	cp -- "${p_old[$i]}" "$d/ota-base/app.bin"
	cat >"$d/new.yaml" <<EOF
name: bench
version: 1.0.0
hardware: [bench]
security_counter: 1
git: { commit: 0123456789abcdef0123456789abcdef01234567 }
build: { id: bench, time: 2026-01-01T00:00:00Z }
images:
  - { name: app, kind: application, file: new.bin }
EOF
	zlong=()
	big=$(stat -c %s "$d/old.bin")
	[ "$(stat -c %s "$d/new.bin")" -le "$big" ] || big=$(stat -c %s "$d/new.bin")
	if [ "$big" -gt $((128 << 20)) ]; then
		w=27
		while [ $((1 << w)) -lt "$big" ]; do w=$((w + 1)); done
		zlong=("--long=$w")
	fi
	for t in "${tools[@]}"; do
		k=$i,$t
		echo "== ${p_name[$i]}: ${label[$t]}" >&2
		r_st[$k]=ok r_enc[$k]="" r_app[$k]="" r_encrss[$k]="" r_apprss[$k]=""
		(
			w='' r=''
			cd "$d" || exit 1
			cat old.bin new.bin >/dev/null # page cache warm
			for ((run = 1; run <= runs; run++)); do
				rm -f patch out
				encode "$t" w r || {
					echo "$t encode failed on ${p_name[$i]}" >>"$log"
					exit 1
				}
				printf 'enc %s %s\n' "$w" "$r"
				apply "$t" w r || {
					echo "$t apply failed on ${p_name[$i]}" >>"$log"
					exit 1
				}
				printf 'app %s %s\n' "$w" "$r"
				cmp -s new.bin out || {
					echo "$t rebuilt other bytes than new.bin on ${p_name[$i]}" >>"$log"
					exit 1
				}
				printf 'size %s\n' "$(stat -c %s patch)"
			done
		) >"$d/$t.res" || r_st[$k]=FAILED
		if [ "${r_st[$k]}" = FAILED ]; then
			failures=$((failures + 1))
			continue
		fi
		while read -r what a b; do
			case $what in
			enc)
				r_enc[$k]=$(min "${r_enc[$k]}" "$a")
				r_encrss[$k]=$(max "${r_encrss[$k]}" "$b")
				;;
			app)
				r_app[$k]=$(min "${r_app[$k]}" "$a")
				r_apprss[$k]=$(max "${r_apprss[$k]}" "$b")
				;;
			size) r_size[$k]=$a ;;
			esac
		done <"$d/$t.res"
	done
	[ "$keep" = 1 ] || rm -rf -- "$d"
done

# ---- the report ----

ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }
echo "bsdiff $(ver bsdiff) (bsdiff/bspatch), xdelta3 $(ver xdelta3), zstd $(ver zstd), xz-utils $(ver xz-utils), gzip $(ver gzip)"
echo "otatool: $("$otatool" --version 2>/dev/null | head -n 1): package --delta-from (the stored patch), extract --base"
[ ${#fw_built[@]} -eq 0 ] ||
	echo "own firmware: bench/firmware/build.sh, $(arm-none-eabi-gcc --version | head -n 1)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "best wall time of $runs runs (each under GNU time and timeout), max peak RSS; page cache warm"
echo "checked: every applied patch and every decompressed image equals new.bin (cmp)"
echo "full: the new image compressed whole (what an update without delta sends); patch: against old.bin"
echo
echo "pairs:"
for i in "${!p_name[@]}"; do
	printf '  %-28s %s\n' "${p_name[$i]}" "${p_what[$i]}"
done
echo
hdr='%-28s %-14s %9s %9s %7s %8s %8s %9s %9s\n'
# shellcheck disable=SC2059 # the format is the constant above
printf "$hdr" pair tool "new B" "out B" "% new" "enc s" "apply s" "enc KiB" "apply KiB"
for i in "${!p_name[@]}"; do
	nsz=$(stat -c %s "${p_new[$i]}")
	for t in "${tools[@]}"; do
		k=$i,$t
		if [ "${r_st[$k]}" != ok ]; then
			# shellcheck disable=SC2059
			printf "$hdr" "${p_name[$i]}" "${label[$t]}" "$nsz" "${r_st[$k]}" \
				- - - - -
			continue
		fi
		awk -v p="${p_name[$i]}" -v t="${label[$t]}" -v n="$nsz" \
			-v s="${r_size[$k]}" -v e="${r_enc[$k]}" -v a="${r_app[$k]}" \
			-v er="${r_encrss[$k]}" -v ar="${r_apprss[$k]}" 'BEGIN {
			printf "%-28s %-14s %9d %9d %6.1f%% %8.3f %8.3f %9d %9d\n",
				p, t, n, s, n ? 100 * s / n : 0, e, a, er, ar }'
	done
done

# Totals over all pairs; a tool that failed on any pair has none.
echo
total_new=0
for i in "${!p_name[@]}"; do
	total_new=$((total_new + $(stat -c %s "${p_new[$i]}")))
done
declare -A tot tot_st tot_enc tot_app tot_rss
for t in "${tools[@]}"; do
	tot[$t]=0 tot_st[$t]=ok tot_enc[$t]=0 tot_app[$t]=0 tot_rss[$t]=0
	for i in "${!p_name[@]}"; do
		k=$i,$t
		if [ "${r_st[$k]}" != ok ]; then
			[ "${tot_st[$t]}" = FAILED ] || tot_st[$t]=${r_st[$k]}
			continue
		fi
		tot[$t]=$((tot[$t] + r_size[$k]))
		tot_enc[$t]=$(awk -v a="${tot_enc[$t]}" -v b="${r_enc[$k]}" 'BEGIN { print a + b }')
		tot_app[$t]=$(awk -v a="${tot_app[$t]}" -v b="${r_app[$k]}" 'BEGIN { print a + b }')
		tot_rss[$t]=$(max "${tot_rss[$t]}" "${r_apprss[$k]}")
	done
done
echo "totals over ${#p_name[@]} pairs, $total_new bytes of new images:"
thdr='%-14s %10s %7s %9s %9s %9s %13s\n'
# shellcheck disable=SC2059
printf "$thdr" tool "out B" "% new" "/bsdiff" "enc s" "apply s" "max apply KiB"
for t in "${tools[@]}"; do
	if [ "${tot_st[$t]}" != ok ]; then
		# shellcheck disable=SC2059
		printf "$thdr" "${label[$t]}" "${tot_st[$t]}" - - - - -
		continue
	fi
	awk -v t="${label[$t]}" -v s="${tot[$t]}" -v n="$total_new" \
		-v b="${tot[bsdiff]}" -v bst="${tot_st[bsdiff]}" \
		-v e="${tot_enc[$t]}" -v a="${tot_app[$t]}" -v r="${tot_rss[$t]}" 'BEGIN {
		ratio = (bst == "ok" && b > 0) ? sprintf("%8.3fx", s / b) : "-"
		printf "%-14s %10d %6.1f%% %9s %9.3f %9.3f %13d\n",
			t, s, 100 * s / n, ratio, e, a, r }'
done
echo
if [ "${tot_st[otatool]}" = ok ] && [ "${tot_st[bsdiff]}" = ok ]; then
	awk -v o="${tot[otatool]}" -v b="${tot[bsdiff]}" -v orss="${tot_rss[otatool]}" \
		-v brss="${tot_rss[bsdiff]}" 'BEGIN {
		printf "delta: otatool/bsdiff %.3fx in total patch size (%d vs %d bytes); apply peak RSS %d vs %d KiB\n",
			o / b, o, b, orss, brss }'
else
	echo "delta: otatool/bsdiff ${tot_st[otatool]} (otatool ${tot_st[otatool]}, bsdiff ${tot_st[bsdiff]})"
fi
for t in xdelta3 zstd xz; do
	if [ "${tot_st[$t]}" != ok ] || [ "${tot_st[bsdiff]}" != ok ]; then
		continue
	fi
	awk -v t="${label[$t]}" -v s="${tot[$t]}" -v b="${tot[bsdiff]}" 'BEGIN {
		printf "delta: %s/bsdiff %.3fx in total size\n", t, s / b }'
done
awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN {
	printf "bench run time: %.1f s\n", b - a }'
if [ "$failures" -gt 0 ]; then
	echo "bench/delta.sh: $failures FAILED rows; see $log" >&2
	keep=1
	exit 1
fi
