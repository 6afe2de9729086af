# End-to-end tests of `otatool manifest`: real git repositories, real image
# files, every field checked against git, coreutils and jq.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A release like examples/release.yaml, in its own repository: tagged
# v1.0.0, then one more commit, so describe is "v1.0.0-1-g<short>".
REPO=$T/repo
mkdir -p "$REPO/images"
head -c 16384 /dev/urandom >"$REPO/images/bootloader.bin"
head -c 65537 /dev/urandom >"$REPO/images/app.bin"
printf 'sample_rate=100\nmode=normal\n' >"$REPO/images/config.bin"
cat >"$REPO/release.yaml" <<'EOF'
# Test release description.
name: acme-sensor-fw
version: 2.4.1-rc.1+build.7
hardware:
  - acme-sensor-rev-b
  - acme-sensor-rev-c
bootloader_min: 1.2.0
security_counter: 7
digest: sha256
dependencies:
  - name: radio-fw
    range: ">=2.1.0 <3.0.0"
images:
  - name: mcuboot
    kind: bootloader
    file: images/bootloader.bin
    load_address: 0x08000000
  - name: app
    kind: application
    file: images/app.bin
    load_address: 0x0802_0000
  - name: settings
    kind: config
    file: images/config.bin
EOF
make_git_repo "$REPO" v1.0.0
git_commit "$REPO" "second commit"
HEAD=$(git -C "$REPO" rev-parse HEAD)
DESCRIBE=$(git -C "$REPO" describe --tags)
VERSION=$("$OTATOOL" --version | sed -n 's/^otatool //p')
FAKE_COMMIT=0123456789abcdef0123456789abcdef01234567
NOREPO=$T/norepo # never inside a repository: checked below
mkdir -p "$NOREPO"
cp -r "$REPO/release.yaml" "$REPO/images" "$NOREPO/"
ISOLATED=1
if git -C "$NOREPO" rev-parse --git-dir >/dev/null 2>&1; then
	ISOLATED=0 # $TMPDIR lies inside some repository
fi

# ---------------------------------------------------------------- CLI frame

expect_exit 0 "--version" otatool --version
assert_matches "$OUT" '^otatool [0-9]+\.[0-9]+\.[0-9]+'
# the libraries it runs with, checked against what other tools load
assert_eq "$(sed -n 's/^  OpenSSL  *//p' "$OUT")" \
	"$(openssl version | cut -d' ' -f2)" "--version: OpenSSL as openssl(1) runs it"
assert_eq "$(sed -n 's/^  zlib  *//p' "$OUT")" \
	"$(python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')" \
	"--version: zlib as python3 loads it"
if pkg-config --exists libgit2 p11-kit-1 2>/dev/null; then
	assert_eq "$(sed -n 's/^  libgit2  *//p' "$OUT")" \
		"$(pkg-config --modversion libgit2)" "--version: libgit2"
	assert_eq "$(sed -n 's/^  p11-kit  *//p' "$OUT")" \
		"$(pkg-config --modversion p11-kit-1) (built with)" "--version: p11-kit"
fi
expect_exit 0 "--version --json" otatool --version --json
assert_json "$OUT" .otatool "$(q "$VERSION")"
assert_json "$OUT" '[.libraries[].name]' \
	'["OpenSSL","libgit2","p11-kit","libyaml","jansson","zlib","liblzma","libdivsufsort"]'
assert_json "$OUT" '.libraries[0].version' "$(q "$(openssl version | cut -d' ' -f2)")"
expect_exit 2 "--version --bogus" otatool --version --bogus
assert_contains "$ERR" "unknown option '--bogus'"

check "--help" otatool --help
assert_contains "$OUT" "manifest"
assert_empty "$ERR"

check "help manifest" otatool help manifest
assert_contains "$OUT" "--release-version"
assert_contains "$OUT" "usage: otatool manifest"
cp "$OUT" "$T/help1"

check "manifest --help" otatool manifest --help
assert_contains "$OUT" "--release-version"
assert_same_file "$OUT" "$T/help1"

expect_exit 2 "help for an unknown command" otatool help manifst
assert_contains "$ERR" "did you mean 'manifest'"

expect_exit 2 "unknown command" otatool manifst
assert_contains "$ERR" "'manifst' is not a command"
assert_contains "$ERR" "did you mean 'manifest'"
assert_empty "$OUT"

expect_exit 2 "unknown global option" otatool --verison
assert_contains "$ERR" "did you mean '--version'"

expect_exit 2 "unknown option" otatool manifest --outptu x
assert_contains "$ERR" "otatool: manifest: unknown option '--outptu'"
assert_contains "$ERR" "did you mean '--output'"
assert_not_exists x

expect_exit 2 "unknown short option" otatool manifest -x
assert_contains "$ERR" "unknown option '-x'"

expect_exit 2 "missing option value (-o)" otatool manifest -o
assert_contains "$ERR" "'-o' needs a value"

expect_exit 2 "missing option value (--output)" otatool manifest --output
assert_matches "$ERR" "'(--output|-o)' needs a value"

# Long options without a short form must be named as such, not as the
# character getopt happens to use for them internally.
expect_exit 2 "missing option value (--release-version)" \
	otatool manifest --release-version
assert_contains "$ERR" "'--release-version' needs a value"
assert_printable "$ERR"

expect_exit 2 "missing option value (--name)" otatool manifest --name
assert_contains "$ERR" "'--name' needs a value"
assert_printable "$ERR"

expect_exit 2 "value given to a flag (--allow-dirty=yes)" \
	otatool manifest --allow-dirty=yes
assert_contains "$ERR" "--allow-dirty"
assert_printable "$ERR"

expect_exit 2 "value given to a flag (--quiet=1)" otatool manifest --quiet=1
assert_contains "$ERR" "--quiet"

expect_exit 2 "no arguments" otatool
assert_contains "$ERR" "usage: otatool"
assert_empty "$OUT"

expect_exit 2 "two release files" \
	in_dir "$REPO" otatool manifest release.yaml release.yaml
assert_contains "$ERR" "at most one release file"

# ---------------------------------------------------------------- happy path

M=$T/happy.json
check "manifest from a git repository" \
	in_dir "$REPO" env SOURCE_DATE_EPOCH=1700000000 \
	otatool manifest --build-id builder-7 -o "$M" release.yaml
assert_empty "$OUT"
assert_contains "$ERR" "wrote $M (3 images, $((16384 + 65537 + 28)) bytes hashed)"
assert_exists "$M"

LAST_NAME="happy path fields"
assert_json "$M" 'keys_unsorted' \
	'["format","name","version","git","build","hardware","bootloader_min","security_counter","dependencies","images"]'
assert_json "$M" '.format' '"otatool-manifest/1"'
assert_json "$M" '.name' '"acme-sensor-fw"'
assert_json "$M" '.version' '"2.4.1-rc.1+build.7"'
assert_json "$M" '.git | keys_unsorted' \
	'["commit","short","branch","tag","describe","dirty"]'
assert_json "$M" '.git.commit' "$(q "$HEAD")"
assert_json "$M" '.git.short' "$(q "$(git -C "$REPO" rev-parse --short HEAD)")"
short=$(json "$M" .git.short)
assert_eq "${HEAD:0:${#short}}" "$short" "git.short is a prefix of git.commit"
assert_json "$M" '.git.branch' '"main"'
assert_json "$M" '.git.tag' '"v1.0.0"'
assert_json "$M" '.git.describe' "$(q "$DESCRIBE")"
assert_eq "$DESCRIBE" "v1.0.0-1-g$short" "fixture: git describe"
assert_json "$M" '.git.dirty' 'false'
assert_json "$M" '.build | keys_unsorted' '["time","machine","otatool"]'
assert_json "$M" '.build.time' '"2023-11-14T22:13:20Z"'
assert_json "$M" '.build.machine' '"builder-7"'
assert_json "$M" '.build.otatool' "$(q "$VERSION")"
assert_json "$M" '.hardware' '["acme-sensor-rev-b","acme-sensor-rev-c"]'
assert_json "$M" '.bootloader_min' '"1.2.0"'
assert_json "$M" '.security_counter' '7'
assert_json "$M" '.dependencies' '[{"name":"radio-fw","range":">=2.1.0 <3.0.0"}]'
assert_json "$M" '[.images[].name]' '["mcuboot","app","settings"]'
assert_json "$M" '[.images[].kind]' '["bootloader","application","config"]'
# Files are recorded relative to the manifest's directory ($T, above repo/).
assert_json "$M" '[.images[].file]' \
	'["repo/images/bootloader.bin","repo/images/app.bin","repo/images/config.bin"]'
assert_json "$M" '[.images[].load_address]' '["0x08000000","0x08020000",null]'
assert_json "$M" '.images[0] | keys_unsorted' \
	'["name","kind","file","size","digest","load_address"]'
i=0
for f in bootloader app config; do
	img=$REPO/images/$f.bin
	assert_json "$M" ".images[$i].size" "$(stat -c %s "$img")"
	assert_json "$M" ".images[$i].digest.algorithm" '"sha256"'
	assert_json "$M" ".images[$i].digest.value" \
		"$(q "$(sha256sum <"$img" | cut -d' ' -f1)")"
	i=$((i + 1))
done
# Canonical form: what jq pretty-prints (2-space indent, final newline).
jq . "$M" >"$T/happy.jq"
assert_same_file "$M" "$T/happy.jq"

for alg in sha384 sha512; do
	check "--digest $alg" \
		in_dir "$REPO" otatool manifest -q --digest "$alg" release.yaml
	cp "$OUT" "$T/$alg.json"
	i=0
	for f in bootloader app config; do
		img=$REPO/images/$f.bin
		assert_json "$T/$alg.json" ".images[$i].digest.algorithm" "$(q "$alg")"
		assert_json "$T/$alg.json" ".images[$i].digest.value" \
			"$(q "$("${alg}sum" <"$img" | cut -d' ' -f1)")"
		i=$((i + 1))
	done
done

sed 's/^digest: sha256$/digest: sha512/' "$REPO/release.yaml" >"$T/sha512.yaml"
cp -r "$REPO/images" "$T/"
check "digest: sha512 in the release file" \
	otatool manifest --git-dir "$REPO" "$T/sha512.yaml"
assert_json "$OUT" '.images[1].digest.value' \
	"$(q "$(sha512sum <"$REPO/images/app.bin" | cut -d' ' -f1)")"

check "--digest overrides the release file" \
	otatool manifest --git-dir "$REPO" --digest sha256 "$T/sha512.yaml"
assert_json "$OUT" '.images[1].digest.algorithm' '"sha256"'

check "build machine from CI_JOB_ID" \
	in_dir "$REPO" env CI_JOB_ID=42 otatool manifest release.yaml
assert_json "$OUT" '.build.machine' '"gitlab:42"'

check "build machine from GITHUB_RUN_ID" \
	in_dir "$REPO" env GITHUB_RUN_ID=1234 otatool manifest release.yaml
assert_json "$OUT" '.build.machine' '"github:1234"'

check "--build-id wins over CI_JOB_ID" \
	in_dir "$REPO" env CI_JOB_ID=42 otatool manifest --build-id mine \
	release.yaml
assert_json "$OUT" '.build.machine' '"mine"'

check "build machine defaults to the host name" \
	in_dir "$REPO" otatool manifest release.yaml
assert_json "$OUT" '.build.machine' "$(q "$(uname -n)")"

before=$(date -u +%s)
check "build time defaults to now" in_dir "$REPO" otatool manifest release.yaml
after=$(date -u +%s)
t=$(json "$OUT" .build.time)
assert_matches "$OUT" '"time": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"'
t=$(date -u -d "$t" +%s 2>/dev/null || echo 0)
[ "$t" -ge "$before" ] && [ "$t" -le "$after" ]
_assert $? "build.time $(json "$OUT" .build.time) is not between $before and $after"

check "shipped examples/release.yaml" \
	in_dir "$OTATOOL_SRC/examples" otatool manifest \
	--git-commit "$FAKE_COMMIT" release.yaml
i=0
for f in $(json "$OUT" '.images[].file'); do
	img=$OTATOOL_SRC/examples/$f
	assert_json "$OUT" ".images[$i].size" "$(stat -c %s "$img")"
	assert_json "$OUT" ".images[$i].digest.value" \
		"$(q "$(sha256sum <"$img" | cut -d' ' -f1)")"
	i=$((i + 1))
done
assert_eq "$i" 3 "examples/release.yaml images"

# ---------------------------------------------------------------- git states

git_in "$REPO" checkout -q --detach HEAD
check "detached HEAD" in_dir "$REPO" otatool manifest release.yaml
git_in "$REPO" checkout -q main
assert_json "$OUT" '.git.branch' 'null'
assert_json "$OUT" '.git.commit' "$(q "$HEAD")"
assert_json "$OUT" '.git.describe' "$(q "$DESCRIBE")"

git_in "$REPO" checkout -q -b feature/x
check "branch with a slash" in_dir "$REPO" otatool manifest release.yaml
git_in "$REPO" checkout -q main
git_in "$REPO" branch -q -D feature/x
assert_json "$OUT" '.git.branch' '"feature/x"'

git_in "$REPO" tag v1.1.0
check "HEAD exactly on a tag" in_dir "$REPO" otatool manifest release.yaml
git_in "$REPO" tag -d v1.1.0
assert_json "$OUT" '.git.tag' '"v1.1.0"'
assert_json "$OUT" '.git.describe' '"v1.1.0"'

git_in "$REPO" tag -a -m "annotated" v1.2.0
check "annotated tag" in_dir "$REPO" otatool manifest release.yaml
git_in "$REPO" tag -d v1.2.0
assert_json "$OUT" '.git.tag' '"v1.2.0"'
assert_json "$OUT" '.git.describe' '"v1.2.0"'

UNTAGGED=$T/untagged
mkdir -p "$UNTAGGED"
cp -r "$REPO/release.yaml" "$REPO/images" "$UNTAGGED/"
make_git_repo "$UNTAGGED"
check "repository without tags" in_dir "$UNTAGGED" otatool manifest release.yaml
assert_json "$OUT" '.git.tag' 'null'
assert_json "$OUT" '.git.describe' 'null'
assert_json "$OUT" '.git.branch' '"main"'
assert_json "$OUT" '.git.commit' "$(q "$(git -C "$UNTAGGED" rev-parse HEAD)")"

# A tag that HEAD cannot reach describes nothing either.
git_in "$UNTAGGED" checkout -q -b side
git_commit "$UNTAGGED" "side commit"
git_in "$UNTAGGED" tag v9.9.9
git_in "$UNTAGGED" checkout -q main
check "only unreachable tags" in_dir "$UNTAGGED" otatool manifest release.yaml
assert_json "$OUT" '[.git.tag, .git.describe]' '[null,null]'

if [ "$ISOLATED" = 1 ]; then
	check "--git-dir from outside the repository" \
		in_dir "$NOREPO" otatool manifest --git-dir "$REPO" release.yaml
	assert_json "$OUT" '.git.commit' "$(q "$HEAD")"
	assert_json "$OUT" '.git.describe' "$(q "$DESCRIBE")"
	# Images still come from next to the release file.
	assert_json "$OUT" '.images[1].digest.value' \
		"$(q "$(sha256sum <"$NOREPO/images/app.bin" | cut -d' ' -f1)")"

	check "--git-dir at a subdirectory of the repository" \
		in_dir "$NOREPO" otatool manifest --git-dir "$REPO/images" \
		release.yaml
	assert_json "$OUT" '.git.commit' "$(q "$HEAD")"

	check "--git-commit outside any repository" \
		in_dir "$NOREPO" otatool manifest \
		--git-commit 0123456789ABCDEF0123456789abcdef01234567 \
		--git-branch release/2.4 --git-tag v2.4.1-rc.1 release.yaml
	assert_json "$OUT" '.git' \
		'{"commit":"0123456789abcdef0123456789abcdef01234567","short":"0123456","branch":"release/2.4","tag":"v2.4.1-rc.1","describe":null,"dirty":false}'

	{
		cat "$NOREPO/release.yaml"
		printf '%s\n' "git:" "  commit: $FAKE_COMMIT" "  branch: main" \
			"  tag: v2.4.1" "build:" "  time: 2026-11-24T09:00:00Z" \
			"  id: release-builder-3"
	} >"$NOREPO/with-git.yaml"
	check "git: and build: in the release file, no repository" \
		in_dir "$NOREPO" otatool manifest with-git.yaml
	assert_json "$OUT" '[.git.commit, .git.branch, .git.tag, .git.dirty]' \
		"[\"$FAKE_COMMIT\",\"main\",\"v2.4.1\",false]"
	assert_json "$OUT" '[.build.time, .build.machine]' \
		'["2026-11-24T09:00:00Z","release-builder-3"]'

	expect_exit 3 "no repository and no commit" \
		in_dir "$NOREPO" otatool manifest -o out.json release.yaml
	assert_contains "$ERR" "not a git repository"
	assert_contains "$ERR" "--git-commit"
	assert_not_exists "$NOREPO/out.json"
	assert_no_temp "$NOREPO" out.json

	expect_exit 3 "--git-dir at a directory without a repository" \
		otatool manifest --git-dir "$NOREPO" "$REPO/release.yaml"
	assert_contains "$ERR" "$NOREPO: not a git repository"

	expect_exit 3 "--git-dir at a nonexistent directory" \
		otatool manifest --git-dir "$NOREPO/nope" "$REPO/release.yaml"
	assert_contains "$ERR" "$NOREPO/nope"
else
	skip "repository-less tests" "$T is inside a git repository"
fi

expect_exit 3 "--git-commit that is not a hash" \
	in_dir "$REPO" otatool manifest --git-commit 0123456789abcdef release.yaml
assert_contains "$ERR" "--git-commit"
assert_contains "$ERR" "0123456789abcdef"

expect_exit 3 "--git-commit with a non-hex digit" \
	in_dir "$REPO" otatool manifest \
	--git-commit 0123456789abcdef0123456789abcdef0123456g release.yaml
assert_contains "$ERR" "--git-commit"
assert_contains "$ERR" "offset 39"

EMPTYREPO=$T/emptyrepo
mkdir -p "$EMPTYREPO"
git_in "$EMPTYREPO" init -q -b main
cp -r "$REPO/release.yaml" "$REPO/images" "$EMPTYREPO/"
expect_exit 3 "repository without commits" \
	in_dir "$EMPTYREPO" otatool manifest -o out.json release.yaml
assert_contains "$ERR" "no commits"
assert_not_exists "$EMPTYREPO/out.json"

# Dirty trees: a change to a tracked file, staged or not, is dirty; an
# untracked file is not.
echo "untracked" >"$REPO/notes.txt"
check "untracked file is not dirty" in_dir "$REPO" otatool manifest release.yaml
assert_json "$OUT" '.git.dirty' 'false'
rm -f "$REPO/notes.txt"

echo "# local change" >>"$REPO/release.yaml"
expect_exit 8 "modified tracked file is refused" \
	in_dir "$REPO" otatool manifest -o "$T/dirty.json" release.yaml
assert_contains "$ERR" "--allow-dirty"
assert_contains "$ERR" "uncommitted"
assert_not_exists "$T/dirty.json"
assert_no_temp "$T" dirty.json

expect_exit 8 "dirty tree, stdout mode prints nothing" \
	in_dir "$REPO" otatool manifest release.yaml
assert_empty "$OUT"

check "--allow-dirty records dirty: true" \
	in_dir "$REPO" otatool manifest --allow-dirty -o "$T/dirty.json" \
	release.yaml
assert_json "$T/dirty.json" '.git.dirty' 'true'
assert_json "$T/dirty.json" '.git.commit' "$(q "$HEAD")"

git_in "$REPO" add release.yaml
expect_exit 8 "staged change is dirty too" \
	in_dir "$REPO" otatool manifest release.yaml
git_in "$REPO" reset -q --hard HEAD

rm "$REPO/images/config.bin"
expect_exit 8 "deleted tracked file is dirty" \
	in_dir "$REPO" otatool manifest \
	--image app:application:images/app.bin release.yaml
assert_contains "$ERR" "--allow-dirty"
git_in "$REPO" checkout -q -- images/config.bin

check "clean again after reset" in_dir "$REPO" otatool manifest release.yaml
assert_json "$OUT" '.git.dirty' 'false'

# ---------------------------------------------------------------- reproducibility

R1=$T/repro1.json
R2=$T/repro2.json
check "reproducible run 1" \
	in_dir "$REPO" env SOURCE_DATE_EPOCH=1700000000 \
	otatool manifest --build-id b -o "$R1" release.yaml
check "reproducible run 2, from another directory" \
	in_dir "$T" env SOURCE_DATE_EPOCH=1700000000 \
	otatool manifest --build-id b --git-dir "$REPO" -o "$R2" \
	"$REPO/release.yaml"
assert_same_file "$R1" "$R2"
# The happy path differs only in its build id.
jq -S '.build.machine = "b"' "$M" >"$T/m-aligned.json"
jq -S . "$R1" >"$T/r1-sorted.json"
LAST_NAME="reproducible across build ids"
assert_same_file "$T/m-aligned.json" "$T/r1-sorted.json"

# Standard output records files relative to the current directory, as a
# file written there does.
check "a manifest written beside the release file" \
	in_dir "$REPO" env SOURCE_DATE_EPOCH=1700000000 \
	otatool manifest --build-id b -o "$REPO/here.json" release.yaml
assert_json "$REPO/here.json" '.images[0].file' '"images/bootloader.bin"'
cp "$REPO/here.json" "$T/here.json"
rm -f "$REPO/here.json"
check "stdout mode prints the same bytes" \
	in_dir "$REPO" env SOURCE_DATE_EPOCH=1700000000 \
	otatool manifest --build-id b release.yaml
assert_same_file "$OUT" "$T/here.json"
assert_empty "$ERR"

check "-o - is stdout" \
	in_dir "$REPO" env SOURCE_DATE_EPOCH=1700000000 \
	otatool manifest --build-id b -o - release.yaml
assert_same_file "$OUT" "$T/here.json"
assert_not_exists "$REPO/-"

check "-q: nothing on stderr" \
	in_dir "$REPO" otatool manifest -q -o "$T/quiet.json" release.yaml
assert_empty "$ERR"
assert_empty "$OUT"
assert_exists "$T/quiet.json"

assert_eq "$(stat -c %a "$R1")" 644 "output mode under umask 022"
# shellcheck disable=SC2016 # expanded by the inner shell
check "umask 077" \
	bash -c 'umask 077 && cd "$1" && "$2" manifest -q -o "$3" release.yaml' \
	_ "$REPO" "$OTATOOL" "$T/private.json"
assert_eq "$(stat -c %a "$T/private.json")" 600 "output mode under umask 077"

echo "old content" >"$T/existing.json"
check "-o replaces an existing file" \
	in_dir "$REPO" env SOURCE_DATE_EPOCH=1700000000 \
	otatool manifest -q --build-id b -o "$T/existing.json" release.yaml
assert_same_file "$T/existing.json" "$R1"
assert_no_temp "$T" existing.json

# ---------------------------------------------------------------- overrides

check "field overrides" \
	in_dir "$REPO" otatool manifest \
	--release-version 3.0.0-beta.2 --name other-fw \
	--security-counter 9 --bootloader-min 1.3.0 \
	--hardware board-x --hardware board-y \
	--dependency radio-fw:^2.2.0 --dependency ble-stack:~1.4.1 \
	--build-time 2026-01-01T01:00:00+01:00 \
	release.yaml
assert_json "$OUT" '.version' '"3.0.0-beta.2"'
assert_json "$OUT" '.name' '"other-fw"'
assert_json "$OUT" '.security_counter' '9'
assert_json "$OUT" '.bootloader_min' '"1.3.0"'
assert_json "$OUT" '.hardware' '["board-x","board-y"]'
assert_json "$OUT" '.dependencies' \
	'[{"name":"radio-fw","range":"^2.2.0"},{"name":"ble-stack","range":"~1.4.1"}]'
assert_json "$OUT" '.build.time' '"2026-01-01T00:00:00Z"'
# Fields not overridden keep the release file's values.
assert_json "$OUT" '[.images[].name]' '["mcuboot","app","settings"]'

check "--build-time wins over SOURCE_DATE_EPOCH" \
	in_dir "$REPO" env SOURCE_DATE_EPOCH=1700000000 otatool manifest \
	--build-time 2025-06-30T23:59:59-02:30 release.yaml
assert_json "$OUT" '.build.time' '"2025-07-01T02:29:59Z"'

check "--security-counter in hex" \
	in_dir "$REPO" otatool manifest --security-counter 0x10 release.yaml
assert_json "$OUT" '.security_counter' '16'

check "--image replaces the release file's images" \
	in_dir "$REPO" otatool manifest \
	--image firmware:application:images/app.bin:0x08020000 \
	--image cfg:config:images/config.bin release.yaml
assert_json "$OUT" '[.images[] | [.name, .kind, .file, .load_address]]' \
	'[["firmware","application","images/app.bin","0x08020000"],["cfg","config","images/config.bin",null]]'
assert_json "$OUT" '.images[0].size' "$(stat -c %s "$REPO/images/app.bin")"
assert_json "$OUT" '.images[0].digest.value' \
	"$(q "$(sha256sum <"$REPO/images/app.bin" | cut -d' ' -f1)")"

check "--image with a custom kind" \
	in_dir "$REPO" otatool manifest \
	--image dsp:dsp-firmware:images/config.bin release.yaml
assert_json "$OUT" '.images[0].kind' '"dsp-firmware"'

mkdir -p "$T/cwd"
check "--image FILE is relative to the current directory" \
	in_dir "$T/cwd" otatool manifest --git-dir "$REPO" \
	--image app:application:../repo/images/app.bin "$REPO/release.yaml"
assert_json "$OUT" '.images[0].file' '"../repo/images/app.bin"'
assert_json "$OUT" '.images[0].size' "$(stat -c %s "$REPO/images/app.bin")"

check "every field from the command line, no release file" \
	in_dir "$REPO" env SOURCE_DATE_EPOCH=0 otatool manifest \
	--name cli-fw --release-version 0.0.1 --hardware hw-1 \
	--image app:application:images/app.bin:0x08020000 --build-id cli
assert_json "$OUT" '.name' '"cli-fw"'
assert_json "$OUT" '.version' '"0.0.1"'
assert_json "$OUT" '.hardware' '["hw-1"]'
assert_json "$OUT" '.bootloader_min' 'null'
assert_json "$OUT" '.security_counter' '0'
assert_json "$OUT" '.dependencies' '[]'
assert_json "$OUT" '.build' "$(jq -cn --arg v "$VERSION" \
	'{time: "1970-01-01T00:00:00Z", machine: "cli", otatool: $v}')"
assert_json "$OUT" '.git.commit' "$(q "$HEAD")"
assert_json "$OUT" '.images' "$(jq -cn \
	--arg d "$(sha256sum <"$REPO/images/app.bin" | cut -d' ' -f1)" \
	--argjson s "$(stat -c %s "$REPO/images/app.bin")" \
	'[{name: "app", kind: "application", file: "images/app.bin", size: $s,
	   digest: {algorithm: "sha256", value: $d}, load_address: "0x08020000"}]')"

expect_exit 3 "no release file and no name" \
	in_dir "$REPO" otatool manifest --release-version 1.0.0 --hardware a \
	--image app:application:images/app.bin
assert_contains "$ERR" "\"name\""
assert_contains "$ERR" "--name"

expect_exit 3 "no release file and no version" \
	in_dir "$REPO" otatool manifest --name a --hardware a \
	--image app:application:images/app.bin
assert_contains "$ERR" "\"version\""
assert_contains "$ERR" "--release-version"

expect_exit 3 "no release file and no image" \
	in_dir "$REPO" otatool manifest --name a --release-version 1.0.0 \
	--hardware a
assert_contains "$ERR" "--image"

expect_exit 3 "--image without a kind" \
	in_dir "$REPO" otatool manifest --image app:images/app.bin release.yaml
assert_contains "$ERR" "--image"
assert_contains "$ERR" "NAME:KIND:FILE"

expect_exit 3 "--image with a bad load address" \
	in_dir "$REPO" otatool manifest \
	--image app:application:images/app.bin:0x0802zz release.yaml
assert_contains "$ERR" "--image"
assert_contains "$ERR" "0x0802zz"

expect_exit 3 "--image with an upper-case custom kind" \
	in_dir "$REPO" otatool manifest \
	--image app:Firmware:images/app.bin release.yaml
assert_contains "$ERR" "--image"
assert_contains "$ERR" "\"Firmware\""

expect_exit 3 "--dependency without a range" \
	in_dir "$REPO" otatool manifest --dependency radio-fw release.yaml
assert_contains "$ERR" "--dependency"
assert_contains "$ERR" "NAME:RANGE"

expect_exit 3 "duplicate --hardware" \
	in_dir "$REPO" otatool manifest --hardware a --hardware a release.yaml
assert_contains "$ERR" "--hardware"
assert_contains "$ERR" "duplicate hardware id \"a\""

# ---------------------------------------------------------------- --previous

P=$T/prev
mkdir -p "$P"
check "write the previous manifest" \
	in_dir "$REPO" otatool manifest -q --release-version 2.4.0 \
	--security-counter 7 -o "$P/2.4.0.json" release.yaml
assert_json "$P/2.4.0.json" '[.version, .security_counter]' '["2.4.0",7]'

check "--previous: higher version, same counter" \
	in_dir "$REPO" otatool manifest --previous "$P/2.4.0.json" \
	-o "$P/new.json" release.yaml
assert_json "$P/new.json" '.version' '"2.4.1-rc.1+build.7"'

check "--previous: higher version, higher counter" \
	in_dir "$REPO" otatool manifest --previous "$P/2.4.0.json" \
	--security-counter 8 release.yaml
assert_json "$OUT" '.security_counter' '8'

rm -f "$P/new.json"
expect_exit 9 "--previous: same version" \
	in_dir "$REPO" otatool manifest --previous "$P/2.4.0.json" \
	--release-version 2.4.0 -o "$P/new.json" release.yaml
assert_contains "$ERR" "$P/2.4.0.json"
assert_contains "$ERR" "2.4.0"
assert_not_exists "$P/new.json"
assert_no_temp "$P" new.json

expect_exit 9 "--previous: same version but for build metadata" \
	in_dir "$REPO" otatool manifest --previous "$P/2.4.0.json" \
	--release-version 2.4.0+build.2 release.yaml
assert_contains "$ERR" "$P/2.4.0.json"
assert_empty "$OUT"

expect_exit 9 "--previous: lower version" \
	in_dir "$REPO" otatool manifest --previous "$P/2.4.0.json" \
	--release-version 2.3.9 -o "$P/new.json" release.yaml
assert_contains "$ERR" "2.3.9"
assert_contains "$ERR" "$P/2.4.0.json"
assert_not_exists "$P/new.json"

expect_exit 9 "--previous: pre-release of the same version is lower" \
	in_dir "$REPO" otatool manifest --previous "$P/2.4.0.json" \
	--release-version 2.4.0-rc.1 release.yaml
assert_contains "$ERR" "$P/2.4.0.json"

expect_exit 10 "--previous: lower security counter" \
	in_dir "$REPO" otatool manifest --previous "$P/2.4.0.json" \
	--release-version 2.5.0 --security-counter 6 -o "$P/new.json" \
	release.yaml
assert_contains "$ERR" "security_counter 6"
assert_contains "$ERR" "$P/2.4.0.json"
assert_not_exists "$P/new.json"
assert_no_temp "$P" new.json

echo '{"format": "otatool-manifest/1", "name": ' >"$P/broken.json"
expect_exit 3 "--previous: malformed JSON" \
	in_dir "$REPO" otatool manifest --previous "$P/broken.json" \
	-o "$P/new.json" release.yaml
assert_contains "$ERR" "$P/broken.json"
assert_not_exists "$P/new.json"

jq 'del(.security_counter)' "$P/2.4.0.json" >"$P/nocounter.json"
expect_exit 3 "--previous: missing field" \
	in_dir "$REPO" otatool manifest --previous "$P/nocounter.json" \
	release.yaml
assert_contains "$ERR" "$P/nocounter.json"
assert_contains "$ERR" "security_counter"

jq '.version = "2.4"' "$P/2.4.0.json" >"$P/badversion.json"
expect_exit 3 "--previous: invalid version" \
	in_dir "$REPO" otatool manifest --previous "$P/badversion.json" \
	release.yaml
assert_contains "$ERR" "$P/badversion.json"
assert_contains "$ERR" "version"

expect_exit 3 "--previous: nonexistent file" \
	in_dir "$REPO" otatool manifest --previous "$P/nope.json" release.yaml
assert_contains "$ERR" "$P/nope.json"

# ---------------------------------------------------------------- bad input

# Every failing run must name what is wrong, print one error line, write
# nothing to stdout, and leave neither the output nor a temporary file.
BAD=$T/bad
mkdir -p "$BAD/out" "$BAD/imgdir"
head -c 1000 /dev/urandom >"$BAD/app.bin"
cp "$BAD/app.bin" "$BAD/unreadable.bin"

# expect_fail CODE NAME WANT... -- CMD...: CMD writes $BAD/out/out.json.
expect_fail() {
	local code=$1 name=$2 w
	local -a want=()

	shift 2
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		want+=("$1")
		shift
	done
	shift
	rm -f "$BAD/out/out.json"
	expect_exit "$code" "$name" "$@"
	for w in "${want[@]}"; do
		assert_contains "$ERR" "$w"
	done
	assert_eq "$(grep -c '^otatool: manifest: ' "$ERR")" 1 \
		"$name: one error line"
	assert_empty "$OUT"
	assert_not_exists "$BAD/out/out.json"
	assert_no_temp "$BAD/out" out.json
}

# bad_release CODE NAME WANT...: $BAD/release.yaml as written just before.
bad_release() {
	local code=$1 name=$2

	shift 2
	expect_fail "$code" "$name" "$@" -- in_dir "$BAD" otatool manifest \
		--git-commit "$FAKE_COMMIT" -o out/out.json release.yaml
}

# release LINE...: writes $BAD/release.yaml, one argument per line.
release() {
	printf '%s\n' "$@" >"$BAD/release.yaml"
}

# The valid base every case below breaks in one place:
#   1 name: fw
#   2 version: 1.0.0
#   3 hardware:
#   4   - board-a
#   5 security_counter: 3
#   6 images:
#   7   - name: app
#   8     file: app.bin
HW=("hardware:" "  - board-a")
IMG=("images:" "  - name: app" "    file: app.bin")

release "name: fw" "version: 1.0.0" "${HW[@]}" "security_counter: 3" "${IMG[@]}"
check "the base of the bad cases is valid" \
	in_dir "$BAD" otatool manifest --git-commit "$FAKE_COMMIT" \
	-o out/out.json release.yaml
assert_json "$BAD/out/out.json" '[.name, .version, .hardware, .security_counter, .images[0].kind]' \
	'["fw","1.0.0",["board-a"],3,"application"]'

release "name: fw" "version: 1.0.0" "${HW[@]}" "images:" "  - name: app" \
	"   file: app.bin"
bad_release 3 "bad indentation" "release.yaml:7:4: invalid YAML"

release 'name: "fw' "version: 1.0.0" "${HW[@]}" "${IMG[@]}"
bad_release 3 "unclosed quote" "release.yaml:" "invalid YAML" "quoted scalar"

release "name: fw" "verison: 1.0.0" "${HW[@]}" "${IMG[@]}"
bad_release 3 "unknown key with a suggestion" \
	'release.yaml:2:1: verison: unknown key (did you mean "version"?)'

release "name: fw" "version: 1.0.0" "${HW[@]}" "${IMG[@]}" "    sizee: 3"
bad_release 3 "unknown key in an image" \
	'release.yaml:8:5: images[0].sizee: unknown key'

release "- name: fw"
bad_release 3 "top level is a list" \
	"release.yaml:1:1" "expected a mapping, found a list"

release "name: fw" "version: 1.0.0" "hardware:" "  a: b" "${IMG[@]}"
bad_release 3 "hardware as a mapping" \
	"release.yaml:4:3: hardware: expected a list, found a mapping"

release "name: [fw]" "version: 1.0.0" "${HW[@]}" "${IMG[@]}"
bad_release 3 "name as a list" \
	"release.yaml:1:7: name: expected a value, found a list"

release "name: fw" "version: 1.0.0" "${HW[@]}" 'security_counter: "7"' "${IMG[@]}"
bad_release 3 "security_counter quoted" \
	"release.yaml:5:19: security_counter: expected an integer, found a quoted string"

release "name: fw" "version: 1.0.0" "${HW[@]}" 'security_counter: abc' "${IMG[@]}"
bad_release 3 "security_counter not a number" \
	'release.yaml:5:19: security_counter: "abc" is not a non-negative integer'

release "name: fw" "version: 1.0.0" "${HW[@]}" 'security_counter: -1' "${IMG[@]}"
bad_release 3 "security_counter negative" \
	'release.yaml:5:19: security_counter: "-1"'

release "name: fw" "version: 1.0.0" "${HW[@]}" 'security_counter: 4294967296' \
	"${IMG[@]}"
bad_release 3 "security_counter over 32 bits" \
	"release.yaml:5:19: security_counter: 4294967296 is out of range (maximum 4294967295)"

release "name: fw" "version: 1.0.0" "${HW[@]}" 'security_counter: 4294967295' \
	"${IMG[@]}"
check "security_counter 4294967295 is accepted" \
	in_dir "$BAD" otatool manifest --git-commit "$FAKE_COMMIT" release.yaml
assert_json "$OUT" '.security_counter' '4294967295'

expect_fail 3 "--security-counter over 32 bits" \
	"--security-counter" "4294967296" -- \
	in_dir "$REPO" otatool manifest --security-counter 4294967296 \
	-o "$BAD/out/out.json" release.yaml

release "name: fw" "version: 1.0.0" "${HW[@]}" "images: app.bin"
bad_release 3 "images not a list" \
	"release.yaml:5:9: images: expected a list, found a scalar"

release "name: fw" "version: 1.0.0" "${HW[@]}" "images:" "  - app.bin"
bad_release 3 "image not a mapping" \
	"release.yaml:6:5: images[0]: expected a mapping, found a scalar"

release "name: fw" "version: 1.0.0" "${HW[@]}" "images:" "  - name: app"
bad_release 3 "image without a file" \
	'release.yaml:6:5: images[0]: missing required key "file"'

release "name: fw" "version: 1.0.0" "${HW[@]}" "${IMG[@]}" \
	'    load_address: "0x08000000"'
bad_release 3 "load_address quoted" \
	"release.yaml:8:19: images[0].load_address: expected an integer"

for v in 1.02.3 1.2 v1.2.3 1.2.3- 1.2.3+ 01.2.3 "1.2.3 "; do
	release "name: fw" "version: \"$v\"" "${HW[@]}" "${IMG[@]}"
	bad_release 3 "invalid version '$v'" "release.yaml:2:10: version"
done

release "name: fw" 'version: ""' "${HW[@]}" "${IMG[@]}"
bad_release 3 "empty quoted version" "release.yaml:2:10: version" "empty"

release "name: fw" 'version:' "${HW[@]}" "${IMG[@]}"
bad_release 3 "empty version" "release.yaml:2:" "version" "empty"

expect_fail 3 "--release-version invalid" "--release-version" "1.2" -- \
	in_dir "$REPO" otatool manifest --release-version 1.2 \
	-o "$BAD/out/out.json" release.yaml

release "name: fw" "version: 1.0.0" "${HW[@]}" "bootloader_min: 1.0" "${IMG[@]}"
bad_release 3 "invalid bootloader_min" "release.yaml:5:17: bootloader_min"

DEP=("dependencies:" "  - name: radio")
for r in '>>1.0.0' '>=1.2' '^' '1.0.0 ||' '>=1.0.0 <'; do
	release "name: fw" "version: 1.0.0" "${HW[@]}" "${IMG[@]}" "${DEP[@]}" \
		"    range: \"$r\""
	bad_release 3 "invalid range '$r'" \
		'release.yaml:9:5: dependencies[0]: dependency "radio": invalid range' 
done

release "name: fw" "version: 1.0.0" "${HW[@]}" "${IMG[@]}" "${DEP[@]}"
bad_release 3 "dependency without a range" \
	'release.yaml:9:5: dependencies[0]: missing required key "range"'

release "name: fw" "version: 1.0.0" "hardware: []" "${IMG[@]}"
bad_release 3 "empty hardware list" \
	"release.yaml:3:11: hardware: must list at least one hardware variant"

release "name: fw" "version: 1.0.0" "${IMG[@]}"
bad_release 3 "missing hardware" "release.yaml" "\"hardware\""

release "version: 1.0.0" "${HW[@]}" "${IMG[@]}"
bad_release 3 "missing name" "release.yaml" "\"name\""

release "name: fw" "version: 1.0.0" "${HW[@]}" "  - 'board a'" "${IMG[@]}"
bad_release 3 "hardware id with a space" \
	'release.yaml:5:5: hardware[1]: hardware id "board a" has an invalid character at offset 5'

release "name: fw" "version: 1.0.0" "${HW[@]}" "  - -board" "${IMG[@]}"
bad_release 3 "hardware id starting with '-'" \
	'release.yaml:5:5: hardware[1]: hardware id "-board" has an invalid character at offset 0'

release "name: fw" "version: 1.0.0" "${HW[@]}" "  - board-a" "${IMG[@]}"
bad_release 3 "duplicate hardware id" \
	'release.yaml:5:5: hardware[1]: duplicate hardware id "board-a"'

expect_fail 3 "--hardware with a slash" "--hardware" '"a/b"' -- \
	in_dir "$REPO" otatool manifest --hardware a/b \
	-o "$BAD/out/out.json" release.yaml

release "name: fw" "version: 1.0.0" "${HW[@]}" "images:" \
	"  - name: app" "    file: missing.bin"
bad_release 3 "missing image file" 'image "app"' "missing.bin" \
	"No such file or directory"

release "name: fw" "version: 1.0.0" "${HW[@]}" "images:" \
	"  - name: app" "    file: imgdir"
bad_release 3 "image path is a directory" 'image "app"' "imgdir" \
	"not a regular file"

if is_root; then
	skip "unreadable image" "root reads files whatever their mode"
else
	chmod 000 "$BAD/unreadable.bin"
	release "name: fw" "version: 1.0.0" "${HW[@]}" "images:" \
		"  - name: app" "    file: unreadable.bin"
	bad_release 3 "unreadable image" 'image "app"' "unreadable.bin" \
		"Permission denied"
	chmod 644 "$BAD/unreadable.bin"
fi

release "name: fw" "version: 1.0.0" "${HW[@]}" "${IMG[@]}" \
	"  - name: app" "    file: app.bin"
bad_release 3 "duplicate image names" \
	'release.yaml:8:5: images[1]: duplicate image name "app"'

release "name: fw" "name: fw2" "version: 1.0.0" "${HW[@]}" "${IMG[@]}"
bad_release 3 "duplicate key" "release.yaml:2:1: name: key given twice"

release "name: fw" "version: 1.0.0" "${HW[@]}" "${IMG[@]}" "    name: app2"
bad_release 3 "duplicate key in an image" \
	"release.yaml:8:5: images[0].name: key given twice"

: >"$BAD/release.yaml"
bad_release 3 "empty file" "release.yaml: empty release description"

release "# nothing but a comment"
bad_release 3 "comment-only file" "release.yaml: empty release description"

release "name: fw" "version: 1.0.0" "${HW[@]}" "${IMG[@]}" "digest: md5"
bad_release 3 "unknown digest in the release file" \
	"release.yaml:8:9: digest" '"md5"'

mkdir -p "$BAD/dir.yaml"
expect_fail 3 "release file is a directory" "dir.yaml: not a regular file" -- \
	in_dir "$BAD" otatool manifest --git-commit "$FAKE_COMMIT" \
	-o out/out.json dir.yaml

expect_fail 3 "nonexistent release file" \
	"nope.yaml: cannot open: No such file or directory" -- \
	in_dir "$BAD" otatool manifest --git-commit "$FAKE_COMMIT" \
	-o out/out.json nope.yaml

expect_fail 3 "bad --digest" "--digest" '"md5"' "sha256" -- \
	in_dir "$REPO" otatool manifest --digest md5 \
	-o "$BAD/out/out.json" release.yaml

for t in 2026-01-01 2026-01-01T00:00:00 2026-13-01T00:00:00Z \
	2026-02-29T00:00:00Z 2026-01-01T00:00:00+1:00 yesterday; do
	expect_fail 3 "bad --build-time '$t'" "--build-time" "\"$t\"" -- \
		in_dir "$REPO" otatool manifest --build-time "$t" \
		-o "$BAD/out/out.json" release.yaml
done

check "--build-time on a leap day" \
	in_dir "$REPO" otatool manifest --build-time 2024-02-29T12:00:00.5Z \
	release.yaml
assert_json "$OUT" '.build.time' '"2024-02-29T12:00:00Z"'

for sde in abc -1 1.5 " 1" 253402300800; do
	expect_fail 3 "SOURCE_DATE_EPOCH='$sde'" "SOURCE_DATE_EPOCH" -- \
		in_dir "$REPO" env SOURCE_DATE_EPOCH="$sde" otatool manifest \
		-o "$BAD/out/out.json" release.yaml
done

check "SOURCE_DATE_EPOCH at the end of year 9999" \
	in_dir "$REPO" env SOURCE_DATE_EPOCH=253402300799 otatool manifest \
	release.yaml
assert_json "$OUT" '.build.time' '"9999-12-31T23:59:59Z"'

if [ "$ISOLATED" = 1 ]; then
	release "name: fw" "version: 1.0.0" "${HW[@]}" "${IMG[@]}"
	expect_fail 3 "not a git repository" "not a git repository" -- \
		in_dir "$BAD" otatool manifest -o out/out.json release.yaml
fi

echo "# local change" >>"$REPO/release.yaml"
expect_fail 8 "dirty tree" "--allow-dirty" -- \
	in_dir "$REPO" otatool manifest -o "$BAD/out/out.json" release.yaml
git_in "$REPO" checkout -q -- release.yaml

# ---------------------------------------------------------------- output errors

release "name: fw" "version: 1.0.0" "${HW[@]}" "${IMG[@]}"
expect_exit 4 "output into a nonexistent directory" \
	in_dir "$BAD" otatool manifest --git-commit "$FAKE_COMMIT" \
	-o nodir/out.json release.yaml
assert_contains "$ERR" "nodir/out.json"
assert_not_exists "$BAD/nodir"

expect_exit 4 "output path is a directory" \
	in_dir "$BAD" otatool manifest --git-commit "$FAKE_COMMIT" \
	-o out release.yaml
assert_contains "$ERR" "out: is a directory"
assert_no_temp "$BAD" out
assert_eq "$(ls -A "$BAD/out")" "" "output directory left untouched"

if is_root; then
	skip "read-only output directory" "root writes anywhere"
else
	mkdir -p "$BAD/ro"
	chmod 555 "$BAD/ro"
	expect_exit 4 "output into a read-only directory" \
		in_dir "$BAD" otatool manifest --git-commit "$FAKE_COMMIT" \
		-o ro/out.json release.yaml
	assert_contains "$ERR" "ro/out.json"
	assert_eq "$(ls -A "$BAD/ro")" "" "read-only directory left empty"
	chmod 755 "$BAD/ro"
fi

finish
