#!/usr/bin/env bash
# Builds the benchmark firmware (the update agent in bench/firmware and the
# project's device verifier, src/device) for a Cortex-M4F with Debian's
# gcc-arm-none-eabi and newlib-nano, and writes OUT.bin, the raw image
# (`objcopy -O binary`, vector table first), and OUT.elf beside it.
#
#   bench/firmware/build.sh [--rev REV] [--no-gc-sections] OUT.bin [FLAG...]
#
# --rev REV          take src/device from git revision REV (git show) instead
#                    of the working tree; bench/firmware is always the tree's
# --no-gc-sections   link every function, as a build without
#                    -ffunction-sections -fdata-sections -Wl,--gc-sections
# FLAG...            more compiler flags, after the defaults (-Os): -O2,
#                    -DAGENT_SHELL, -DAGENT_VERSION='"1.4.3"', ...
#
# The build is reproducible: the same sources and flags give the same bytes.
set -euo pipefail

die() {
	echo "bench/firmware/build.sh: $*" >&2
	exit 2
}

rev=
gc=1
while [ $# -gt 0 ]; do
	case $1 in
	--rev)
		[ $# -ge 2 ] || die "--rev needs a revision"
		rev=$2
		shift 2
		;;
	--no-gc-sections)
		gc=0
		shift
		;;
	--)
		shift
		break
		;;
	-*) die "unknown option '$1'" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die "usage: build.sh [--rev REV] [--no-gc-sections] OUT.bin [FLAG...]"
out=$1
shift
[[ $out == *.bin ]] || die "the output must be named *.bin, not '$out'"
command -v arm-none-eabi-gcc >/dev/null ||
	die "arm-none-eabi-gcc is missing (Debian: gcc-arm-none-eabi, libnewlib-arm-none-eabi)"

fw=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$fw/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/otatool-fw.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# The device library: the working tree's, or REV's exported by git show.
dev=$root/src/device
if [ -n "$rev" ]; then
	commit=$(git -C "$root" rev-parse --verify -q "$rev^{commit}") ||
		die "'$rev' is not a revision of $root"
	dev=$work/device
	mkdir -p "$dev"
	files=$(git -C "$root" ls-tree --name-only "$commit" src/device/) ||
		die "cannot list src/device at $rev"
	[ -n "$files" ] || die "$rev has no src/device"
	for f in $files; do
		case $f in
		*.c | *.h) git -C "$root" show "$commit:$f" >"$dev/${f##*/}" ;;
		esac
	done
fi

arch=(-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard)
cflags=(-std=gnu99 -Os -g -Wall -Wextra -Werror -fno-common
	"-ffile-prefix-map=$work=." "-ffile-prefix-map=$root=.")
ldflags=(-specs=nano.specs "-T$fw/stm32f4.ld" "-Wl,--no-warn-rwx-segments")
if [ "$gc" = 1 ]; then
	cflags+=(-ffunction-sections -fdata-sections)
	ldflags+=("-Wl,--gc-sections")
fi

srcs=("$fw"/startup.c "$fw"/board.c "$fw"/syscalls.c "$fw"/sha256.c
	"$fw"/se.c "$fw"/main.c)
for s in "$dev"/*.c; do
	[ -e "$s" ] && srcs+=("$s")
done

objs=()
i=0
for s in "${srcs[@]}"; do
	o=$work/$((i++))-$(basename "${s%.c}").o
	arm-none-eabi-gcc "${arch[@]}" "${cflags[@]}" -I"$fw" -I"$dev" "$@" \
		-c "$s" -o "$o" || die "compiling $s failed"
	objs+=("$o")
done
elf=${out%.bin}.elf
arm-none-eabi-gcc "${arch[@]}" "${cflags[@]}" "$@" "${ldflags[@]}" \
	-o "$elf" "${objs[@]}" -lc -lm || die "linking $elf failed"
arm-none-eabi-objcopy -O binary "$elf" "$out" ||
	die "objcopy of $elf failed"
