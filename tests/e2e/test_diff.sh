# End-to-end tests of otatool diff (otatool-diff(1)): rebuilds of one
# release carry the same signed content (and ECDSA and Ed25519 packages
# are byte for byte the same with SOURCE_DATE_EPOCH, checked with cmp),
# while a changed field, image byte or payload byte is named, for otatool
# packages and MCUboot images. Wrong inputs are refused with their
# documented status.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require cmp jq

D=$T/rel
mkdir -p "$D/images"
head -c 5000 /dev/urandom >"$D/images/app.bin"
head -c 300 /dev/urandom >"$D/images/cfg.bin"
cat >"$D/release.yaml" <<'YAML'
name: fw
version: 1.2.3
hardware: [hw-a]
security_counter: 3
images:
  - name: app
    file: images/app.bin
    kind: application
    load_address: 0x08020000
  - name: cfg
    file: images/cfg.bin
    kind: config
YAML
make_git_repo "$D"
K=$T/keys
mkdir -p "$K"
check "an ECDSA key" otatool keys generate -q --type ecdsa-p256 --key "$K/p.pem"
check "an Ed25519 key" otatool keys generate -q --type ed25519 --key "$K/e.pem"

export SOURCE_DATE_EPOCH=1764000000
pkg() { # OUT KEY [OPTIONS...]: package the release
	local out=$1 key=$2
	shift 2
	in_dir "$D" otatool package -q --key "$key" "$@" -o "$out" release.yaml
}

# ------------------------------------------------------------ packages

check "ECDSA package" pkg "$T/a.otapkg" "$K/p.pem"
check "ECDSA rebuild" pkg "$T/b.otapkg" "$K/p.pem"
check "ECDSA rebuild is byte-identical (cmp: RFC 6979)" \
	cmp "$T/a.otapkg" "$T/b.otapkg"
expect_exit 0 "diff: an ECDSA rebuild signs the same content" \
	otatool diff "$T/a.otapkg" "$T/b.otapkg"
assert_contains "$OUT" "the same signed content (otatool package)"
check "json: same" otatool diff --json "$T/a.otapkg" "$T/b.otapkg"
assert_json "$OUT" .same true
assert_json "$OUT" '.differences | length' 0
check "Ed25519 package" pkg "$T/e1.otapkg" "$K/e.pem"
sleep 1 # a second later: the signing time is SOURCE_DATE_EPOCH's
check "Ed25519 rebuild" pkg "$T/e2.otapkg" "$K/e.pem"
check "Ed25519 rebuild is byte-identical (cmp)" cmp "$T/e1.otapkg" "$T/e2.otapkg"
check "inspect: signed at SOURCE_DATE_EPOCH" otatool inspect "$T/e1.otapkg"
assert_matches "$OUT" '^  signed at: +2025-11-24T16:00:00Z$'

# One image byte changed: its digests differ, nothing else.
cp "$D/images/app.bin" "$T/app.orig"
printf 'X' | dd of="$D/images/app.bin" bs=1 seek=1234 conv=notrunc status=none
check "package over a changed image" pkg "$T/c.otapkg" "$K/p.pem" \
	--allow-dirty
cp "$T/app.orig" "$D/images/app.bin"
expect_exit 13 "diff: a changed image byte" \
	otatool diff "$T/a.otapkg" "$T/c.otapkg"
assert_contains "$OUT" "the signed content differs (otatool package)"
assert_contains "$OUT" "image app: digest:"
assert_not_contains "$OUT" "image cfg"
assert_not_contains "$OUT" "version"
assert_contains "$ERR" "differ in 2 fields"
expect_exit 13 "json: a changed image byte" otatool diff --json \
	"$T/a.otapkg" "$T/c.otapkg"
assert_json "$OUT" .same false
assert_json "$OUT" '[.differences[].field] | join(",")' \
	'"image app: digest,image app: stored digest"'
# The digest shown is the image's SHA-256, as sha256sum computes it.
assert_json "$OUT" '.differences[0].a' \
	"\"$(sha256sum "$D/images/app.bin" | cut -d' ' -f1)\""
expect_exit 13 "diff -q: no report" otatool diff -q "$T/a.otapkg" "$T/c.otapkg"
assert_empty "$OUT"

# Fields of the release, and an option that changes the layout.
sed 's/^version: 1.2.3$/version: 1.2.4/; s/^security_counter: 3$/security_counter: 4/' \
	"$D/release.yaml" >"$D/r2.yaml"
check "package 1.2.4" in_dir "$D" otatool package -q --key "$K/p.pem" \
	-o "$T/v.otapkg" r2.yaml
expect_exit 13 "diff: version and counter" otatool diff "$T/a.otapkg" "$T/v.otapkg"
assert_contains "$OUT" "  version:
    - 1.2.3
    + 1.2.4"
assert_contains "$OUT" "security counter:"
check "compressed" pkg "$T/z.otapkg" "$K/p.pem" --compress-image cfg
expect_exit 13 "diff: one image stored compressed" \
	otatool diff "$T/a.otapkg" "$T/z.otapkg"
assert_contains "$OUT" "image cfg: stored as:"
assert_not_contains "$OUT" "image cfg: digest"

# The signing time, when SOURCE_DATE_EPOCH moves.
SOURCE_DATE_EPOCH=1764000100 check "a later signing time" \
	pkg "$T/t.otapkg" "$K/p.pem"
expect_exit 13 "diff: the signing time" otatool diff "$T/a.otapkg" "$T/t.otapkg"
assert_contains "$OUT" "signing time:
    - 2025-11-24T16:00:00Z
    + 2025-11-24T16:01:40Z"

# ------------------------------------------------------- MCUboot images

mcu() { # OUT [OPTIONS...]
	local out=$1
	shift
	in_dir "$D" otatool package -q --format mcuboot --key "$K/p.pem" \
		--image app "$@" -o "$out" release.yaml
}
check "MCUboot image" mcu "$T/m1.bin"
check "MCUboot rebuild" mcu "$T/m2.bin"
expect_exit 0 "diff: an MCUboot rebuild" otatool diff "$T/m1.bin" "$T/m2.bin"
assert_contains "$OUT" "the same signed content (MCUboot image)"
printf 'X' | dd of="$D/images/app.bin" bs=1 seek=4000 conv=notrunc status=none
check "MCUboot over a changed payload" mcu "$T/m3.bin" --allow-dirty
cp "$T/app.orig" "$D/images/app.bin"
expect_exit 13 "diff: a changed payload byte" otatool diff "$T/m1.bin" "$T/m3.bin"
assert_contains "$OUT" "image hash:"
# The header is 0x200 bytes: payload byte 4000 is file byte 4512, where
# cmp finds the first difference too (cmp counts from 1).
assert_contains "$OUT" "payload, from byte 4512"
assert_eq "$(cmp "$T/m1.bin" "$T/m3.bin" | awk '{ print $5 }' | tr -d ,)" \
	4513 "cmp's first difference"
check "MCUboot with a build number" mcu "$T/m4.bin" --build-number 9
expect_exit 13 "diff: the MCUboot version" otatool diff "$T/m1.bin" "$T/m4.bin"
assert_contains "$OUT" "  version:
    - 1.2.3+0
    + 1.2.3+9"

# ------------------------------------------------------------- refusals

expect_exit 2 "diff: a package and an MCUboot image" \
	otatool diff "$T/a.otapkg" "$T/m1.bin"
assert_contains "$ERR" "two kinds of artifact"
check "a manifest" in_dir "$D" otatool manifest -q release.yaml -o "$T/m.json"
expect_exit 2 "diff: manifests" otatool diff "$T/m.json" "$T/m.json"
assert_contains "$ERR" "compare manifests with cmp"
expect_exit 2 "diff: one operand" otatool diff "$T/a.otapkg"
cp "$T/a.otapkg" "$T/bad.otapkg"
flip_byte "$T/bad.otapkg" 200
expect_exit 5 "diff: a damaged package is not compared" \
	otatool diff "$T/a.otapkg" "$T/bad.otapkg"
assert_contains "$ERR" "$T/bad.otapkg"
expect_exit 3 "diff: a missing file" otatool diff "$T/a.otapkg" "$T/none"
mkfifo "$T/fifo"
expect_exit 3 "diff: a FIFO is refused at once" otatool diff "$T/a.otapkg" "$T/fifo"

finish
