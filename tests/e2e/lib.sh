# Shared harness for otatool's end-to-end tests: source it from a
# tests/e2e/test_*.sh script, which ctest runs as `bash SCRIPT` with
# OTATOOL=<built binary> and OTATOOL_SRC=<source dir>.
#
# Every check is counted; a failure prints the command, its exit status,
# stdout and stderr, and the script carries on so one run shows every
# problem. `finish` prints "N passed, N failed" and sets the exit status.
#
#   run CMD...                  run CMD, keep $RC and its output in $OUT/$ERR
#   check NAME CMD...           run CMD, expect exit status 0
#   expect_exit CODE NAME CMD...  run CMD, expect exit status CODE
#   assert_contains FILE TEXT   (and assert_not_contains, assert_empty, ...)
#   assert_no_temp DIR NAME     no temporary ".NAME.*" left beside an output
#   assert_json FILE FILTER JSON  jq FILTER on FILE must print JSON (compact)
#   make_git_repo DIR [TAG]     a repository with one commit of DIR's files
#
# Inside CMD, `otatool` is the binary under test (on PATH) and `in_dir DIR CMD...`
# runs CMD in DIR without changing the script's directory.

set -u

if [ -z "${OTATOOL:-}" ] || [ ! -x "$OTATOOL" ]; then
	echo "OTATOOL must name the otatool binary to test (got '${OTATOOL:-}')" >&2
	exit 2
fi
OTATOOL=$(cd "$(dirname "$OTATOOL")" && pwd)/$(basename "$OTATOOL")
OTATOOL_SRC=${OTATOOL_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

for tool in jq git sha256sum; do
	if ! command -v "$tool" >/dev/null; then
		echo "$tool is required (scripts/deps installs it)" >&2
		exit 2
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/otatool-e2e.XXXXXX") || exit 2
mkdir -p "$T/.last"
OUT=$T/.last/stdout
ERR=$T/.last/stderr
: >"$OUT"
: >"$ERR"

PASSED=0
FAILED=0
SKIPPED=0
RC=0
LAST_NAME=""
LAST_CMD=""
FINISHED=0

# A test's outcome must not depend on who runs it or where: no user or system
# git config, no CI job ids, no reproducible-build time, no locale.
export HOME=$T/home
mkdir -p "$HOME"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="otatool test" GIT_AUTHOR_EMAIL="test@example.invalid"
export GIT_COMMITTER_NAME="otatool test"
export GIT_COMMITTER_EMAIL="test@example.invalid"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
	GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CEILING_DIRECTORIES
unset SOURCE_DATE_EPOCH GITHUB_RUN_ID CI_JOB_ID BUILDKITE_JOB_ID \
	CIRCLE_WORKFLOW_JOB_ID BUILD_TAG TF_BUILD_BUILDID BUILD_BUILDID \
	DRONE_BUILD_NUMBER
export LC_ALL=C TZ=UTC
umask 022

_cleanup() {
	local status=$?

	if [ "$FINISHED" = 0 ]; then
		echo "FAIL: script ended early (exit status $status, last" \
			"test '$LAST_NAME')" >&2
		FAILED=$((FAILED + 1))
		echo "$PASSED passed, $FAILED failed"
		status=1
	fi
	# chmod 000 fixtures would otherwise survive rm -rf as non-root.
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
	exit "$status"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM HUP

# `otatool` on PATH, so that commands and env(1) alike find the binary.
mkdir -p "$T/bin"
ln -s "$OTATOOL" "$T/bin/otatool"
export PATH="$T/bin:$PATH"

# require TOOL...: every tool a script needs, or stop (status 2) before any
# check runs, naming it.
require() {
	local tool

	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "$tool is required (scripts/deps installs it)" >&2
			exit 2
		fi
	done
}

# die MESSAGE: a broken fixture is no test result: stop the script.
die() {
	echo "setup failed: $*" >&2
	exit 1
}

# 1 when the otatool under test is built with AddressSanitizer (slower:
# scripts bound their exhaustive walks then).
SANITIZED=0
if ldd "$OTATOOL" 2>/dev/null | grep -q libasan; then
	# shellcheck disable=SC2034 # read by the suites that source this
	SANITIZED=1
fi

# assert_mutations_refused MODE FILE HEADER COUNT WHAT CMD...: CMD refuses
# every variant of FILE that tests/e2e/walk.py makes (MODE flip,
# flip-sparse or trunc; HEADER bytes get every bit flipped even when
# sparse): exit 5, 3 with a damaged magic, and no sanitizer report.
# COUNT is how many variants that must be.
assert_mutations_refused() {
	local mode=$1 file=$2 header=$3 count=$4 what=$5 dir=$T/.walk

	shift 5
	mkdir -p "$dir"
	LAST_NAME="$what"
	LAST_CMD="python3 walk.py $mode $file $dir $header $* VARIANT"
	python3 "$(dirname "${BASH_SOURCE[0]}")/walk.py" "$mode" "$file" \
		"$dir" "$header" "$@" >"$OUT" 2>"$ERR"
	RC=$?
	[ "$RC" = 0 ] && [ ! -s "$OUT" ]
	_assert $? "variants not refused with exit 5 (3 with a damaged magic), or crashed: $(head -n 5 "$OUT")"
	assert_contains "$ERR" "$count variants"
}

# The SoftHSM module of the token tests (OTATOOL_TEST_SOFTHSM overrides).
SOFTHSM_MODULE=${OTATOOL_TEST_SOFTHSM:-/usr/lib/softhsm/libsofthsm2.so}

# make_token DIR LABEL: a fresh SoftHSM token (user PIN 1234) under DIR and
# the environment otatool and pkcs11-tool read: SOFTHSM2_CONF,
# OTATOOL_PKCS11_MODULE, OTATOOL_PKCS11_PIN. Leaks inside SoftHSM (2.6.1
# leaks in every Ed25519 signature) are not otatool's: LSan is told so.
# A broken fixture is no test result: it stops the script.
# flip_byte FILE OFFSET: inverts every bit of the byte at OFFSET, so the
# file always changes (writing a fixed value would be a no-op 1 time in 256).
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" 2>/dev/null | tr -d ' ')
	[ -n "$b" ] || die "flip_byte: $1 has no byte $2"
	printf "\\$(printf '%03o' $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

make_token() {
	local dir=$1 label=$2

	[ -n "$dir" ] || die "make_token: no directory"
	mkdir -p "$dir/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$dir/tokens" >"$dir/softhsm2.conf"
	export SOFTHSM2_CONF=$dir/softhsm2.conf
	export OTATOOL_PKCS11_MODULE=$SOFTHSM_MODULE
	export OTATOOL_PKCS11_PIN=1234
	printf 'leak:libsofthsm2.so\n' >"$dir/lsan.supp"
	export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$dir/lsan.supp"
	softhsm2-util --init-token --free --label "$label" --pin 1234 \
		--so-pin 5678 >"$dir/init.log" 2>&1 ||
		die "softhsm2-util --init-token: $(cat "$dir/init.log")"
}

in_dir() {
	local dir=$1
	shift
	cd "$dir" && "$@"
}

# Quoted so that a failure report can be pasted into a shell.
_quote() {
	local out="" a

	for a in "$@"; do
		out+="$(printf '%q' "$a") "
	done
	printf '%s' "${out% }"
}

_show() {
	local file=$1 label=$2

	if [ -s "$file" ]; then
		echo "  --- $label"
		sed -e 's/^/  | /' "$file" | head -n 40
	else
		echo "  --- $label: (empty)"
	fi
}

_report() {
	{
		echo "FAIL: $1"
		[ $# -gt 1 ] && echo "  $2"
		echo "  command: $LAST_CMD"
		echo "  exit status: $RC"
		_show "$OUT" stdout
		_show "$ERR" stderr
	} >&2
}

pass() {
	PASSED=$((PASSED + 1))
}

# fail NAME [WHY]: counts a failure and shows the last command's output.
fail() {
	FAILED=$((FAILED + 1))
	_report "$@"
}

skip() {
	SKIPPED=$((SKIPPED + 1))
	echo "SKIP: $1${2:+ ($2)}" >&2
}

# run CMD...: runs CMD in a subshell; stdout and stderr go to $OUT and $ERR.
run() {
	LAST_CMD=$(_quote "$@")
	("$@") >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# A sanitizer report is a failure whatever the exit status says.
_sanitizer_clean() {
	! grep -qE 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' "$ERR"
}

# expect_exit CODE NAME CMD...
expect_exit() {
	local code=$1 name=$2

	shift 2
	LAST_NAME=$name
	run "$@"
	if [ "$RC" != "$code" ]; then
		fail "$name" "expected exit status $code"
		return 1
	fi
	if ! _sanitizer_clean; then
		fail "$name" "sanitizer report on stderr"
		return 1
	fi
	pass
}

# check NAME CMD...
check() {
	local name=$1

	shift
	expect_exit 0 "$name" "$@"
}

# _assert OK WHAT: records one assertion about the last command.
_assert() {
	if [ "$1" = 0 ]; then
		pass
		return 0
	fi
	fail "$LAST_NAME: $2"
	return 1
}

assert_contains() {
	grep -qF -- "$2" "$1"
	_assert $? "$(basename "$1") should contain: $2"
}

assert_not_contains() {
	! grep -qF -- "$2" "$1"
	_assert $? "$(basename "$1") should not contain: $2"
}

# assert_matches FILE REGEX (extended)
assert_matches() {
	grep -qE -- "$2" "$1"
	_assert $? "$(basename "$1") should match: $2"
}

assert_empty() {
	[ ! -s "$1" ]
	_assert $? "$(basename "$1") should be empty"
}

assert_exists() {
	[ -e "$1" ]
	_assert $? "$1 should exist"
}

assert_not_exists() {
	[ ! -e "$1" ] && [ ! -L "$1" ]
	_assert $? "$1 should not exist"
}

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() {
	[ "$1" = "$2" ]
	_assert $? "$3: expected '$2', got '$1'"
}

# assert_printable FILE: no control characters but newline and tab.
assert_printable() {
	# shellcheck disable=SC2094 # both only read FILE
	tr -d '\000-\010\013-\037\177' <"$1" | cmp -s - "$1"
	_assert $? "$(basename "$1") has control characters: $(od -c "$1" | head -n 5)"
}

assert_same_file() {
	cmp -s -- "$1" "$2"
	_assert $? "$1 and $2 should be identical"
}

# assert_no_temp DIR NAME: no leftover temporary ".NAME.*" beside an output.
assert_no_temp() {
	local left

	left=$(find "$1" -maxdepth 1 -name ".$2.*" -print 2>/dev/null)
	[ -z "$left" ]
	_assert $? "temporary files left in $1: $left"
}

# q STRING: STRING as a JSON string, for assert_json.
q() {
	jq -cn --arg v "$1" '$v'
}

# json FILE FILTER: jq -r output ("" and failure if FILE is not JSON).
json() {
	jq -r "$2" "$1" 2>/dev/null
}

# assert_json FILE FILTER EXPECTED: compact jq output must equal EXPECTED,
# so strings are quoted ('"main"', or "$(q "$value")") and null is null.
assert_json() {
	local got

	got=$(jq -c "$2" "$1" 2>&1 | head -c 2000)
	[ "$got" = "$3" ]
	_assert $? "$(basename "$1") $2: expected $3, got ${got:-nothing}"
}

# is_root: root reads and writes files whatever their mode, so permission
# tests skip themselves.
is_root() {
	[ "$(id -u)" = 0 ]
}

# git_in DIR ARGS...: git in DIR, quiet, failing the script on error.
git_in() {
	local dir=$1

	shift
	if ! git -C "$dir" "$@" >/dev/null 2>"$T/.git.err"; then
		echo "setup failed: git -C $dir $*" >&2
		cat "$T/.git.err" >&2
		exit 1
	fi
}

# make_git_repo DIR [TAG]: initialises DIR (created if needed) on branch
# main, commits everything in it (a README if it is empty), tags TAG.
make_git_repo() {
	local dir=$1 tag=${2:-}

	mkdir -p "$dir"
	[ -n "$(ls -A "$dir")" ] || echo "test repository" >"$dir/README"
	git_in "$dir" init -q -b main
	git_in "$dir" config user.name "otatool test"
	git_in "$dir" config user.email "test@example.invalid"
	git_in "$dir" config commit.gpgsign false
	git_in "$dir" config tag.gpgsign false
	git_in "$dir" add -A
	git_in "$dir" commit -q -m "initial commit"
	[ -z "$tag" ] || git_in "$dir" tag "$tag"
}

# git_commit DIR MESSAGE: one more (empty) commit.
git_commit() {
	git_in "$1" commit -q --allow-empty -m "$2"
}

# finish: the summary line, and the script's exit status.
finish() {
	FINISHED=1
	[ "$SKIPPED" = 0 ] || echo "($SKIPPED skipped)" >&2
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
	exit $?
}
