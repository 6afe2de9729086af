#!/usr/bin/env bash
# End-to-end tests of delta packages (otatool-package(5), DELTA IMAGES):
# package --delta-from a package or a directory, extract --base and
# verify --base, byte for byte against the release's images (cmp), on
# real Cortex-M firmware built here with arm-none-eabi-gcc when it is
# installed; wrong and missing bases, a patch that would overrun its
# image, several keys and a SoftHSM token, an MCUboot image as the
# target (the rebuilt bytes pass MCUboot's check), and every bit flip and
# truncation of a small delta package refused.
. "$(dirname "$0")/lib.sh"

require openssl python3 cmp dd

K=$T/keys
W=$T/work
mkdir -p "$K" "$W"
check "keys: P-256" otatool keys generate -q --type ecdsa-p256 --key "$K/p256.pem"
check "keys: Ed25519" otatool keys generate -q --type ed25519 --key "$K/ed.pem"
check "keys: another" otatool keys generate -q --type ecdsa-p256 --key "$K/other.pem"

# A release file of one version: app (changes) and cfg (4 bytes).
release() { # release DIR VERSION APP CFG
	mkdir -p "$1"
	cp "$3" "$1/app.bin"
	cp "$4" "$1/cfg.bin"
	cat >"$1/release.yaml" <<EOF
name: delta-fw
version: $2
hardware: [board-a]
security_counter: 4
git:
  commit: 0123456789abcdef0123456789abcdef01234567
build:
  id: e2e
  time: 2026-12-01T00:00:00Z
images:
  - name: app
    kind: application
    file: app.bin
  - name: cfg
    kind: config
    file: cfg.bin
EOF
}

# ------------------------------------------------------------ the images

# Real firmware: the update agent of bench/firmware, without and with its
# shell (a feature added between releases). Without the cross compiler,
# code-like bytes with the kind of edits a release makes.
if command -v arm-none-eabi-gcc >/dev/null; then
	check "firmware: build v1" \
		"$OTATOOL_SRC/bench/firmware/build.sh" "$W/fw1.bin"
	check "firmware: build v2 (with the shell)" \
		"$OTATOOL_SRC/bench/firmware/build.sh" "$W/fw2.bin" -DAGENT_SHELL
	REAL=1
else
	skip "real firmware" "arm-none-eabi-gcc is missing (gcc-arm-none-eabi)"
	python3 - "$W/fw1.bin" "$W/fw2.bin" <<'EOF'
import random, sys
r = random.Random(11)
words = [r.randrange(1 << 32) for _ in range(600)]
v1 = b''.join(w.to_bytes(4, 'little') for w in (words * 10)[:5000])
v2 = bytearray(v1[:8000] + bytes(r.randrange(256) for _ in range(900)) + v1[8000:])
for i in range(100, len(v2), 997):
    v2[i] ^= 0x40
open(sys.argv[1], 'wb').write(v1)
open(sys.argv[2], 'wb').write(bytes(v2))
EOF
	REAL=0
fi
printf 'cfg-1\n' >"$W/cfg1.bin"
printf 'cfg-2\n' >"$W/cfg2.bin"
release "$W/r1" 1.0.0 "$W/fw1.bin" "$W/cfg1.bin"
release "$W/r2" 1.1.0 "$W/fw2.bin" "$W/cfg2.bin"

# ------------------------------------------------------- package, extract

P=$W/pkg
mkdir -p "$P"
check "v1: a full package" \
	otatool package -q --key "$K/p256.pem" -o "$P/v1.otapkg" "$W/r1/release.yaml"
check "v2: a full package, to compare with" \
	otatool package -q --key "$K/p256.pem" -o "$P/v2-full.otapkg" "$W/r2/release.yaml"
check "v2: a delta package against v1" \
	otatool package --key "$K/p256.pem" --delta-from "$P/v1.otapkg" \
	-o "$P/v2.otapkg" "$W/r2/release.yaml"
assert_matches "$ERR" "image app: patch, [0-9]+ of $(stat -c %s "$W/fw2.bin") bytes"
assert_contains "$ERR" "image cfg: full, 6 of 6 bytes (a patch would take"
assert_no_temp "$P" v2.otapkg
# the temporary copy of v1's images is gone
assert_eq "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'otatool-base-*' -newer "$P/v1.otapkg" | wc -l)" 0 \
	"temporary base directories left"
full=$(stat -c %s "$P/v2-full.otapkg")
delta=$(stat -c %s "$P/v2.otapkg")
[ "$delta" -lt "$full" ]
_assert $? "the delta package ($delta bytes) is not smaller than the full one ($full)"
assert_eq "$(od -An -tu2 -j4 -N2 "$P/v2.otapkg" | tr -d ' ')" 2 "a delta package's format version"
assert_eq "$(od -An -tu2 -j4 -N2 "$P/v2-full.otapkg" | tr -d ' ')" 1 "a full package's format version"

check "extract --base v1.otapkg" \
	otatool extract --trust-key "$K/p256.pub.pem" --base "$P/v1.otapkg" \
	-o "$W/out" "$P/v2.otapkg"
assert_contains "$ERR" "app.bin ($(stat -c %s "$W/fw2.bin") bytes, rebuilt from its base, verified)"
assert_same_file "$W/out/app.bin" "$W/fw2.bin"
assert_same_file "$W/out/cfg.bin" "$W/cfg2.bin"
# independent of otatool: the digest the signed region names
want=$(sha256sum "$W/fw2.bin" | cut -d' ' -f1)
check "inspect --json" otatool inspect --json "$P/v2.otapkg"
assert_json "$OUT" '.images[0] | [.compression, .digest, .size, .base.size, .rebuilt]' \
	"[\"patch\",\"$want\",$(stat -c %s "$W/fw2.bin"),$(stat -c %s "$W/fw1.bin"),false]"
assert_json "$OUT" '.images[0].base.digest' "\"$(sha256sum "$W/fw1.bin" | cut -d' ' -f1)\""
assert_json "$OUT" '.images[1] | [.compression, .base]' '["none",null]'
assert_json "$OUT" '.header.format_version' 2
check "inspect" otatool inspect "$P/v2.otapkg"
assert_contains "$OUT" "(patch)"
assert_contains "$OUT" "against a base of $(stat -c %s "$W/fw1.bin") B"
assert_contains "$OUT" "(not rebuilt: no base)"

check "verify --base v1.otapkg" \
	otatool verify --trust-key "$K/p256.pub.pem" --base "$P/v1.otapkg" "$P/v2.otapkg"
assert_contains "$OUT" "rebuilt from its base, digest matches"
assert_contains "$OUT" "verdict: VALID"
check "verify without --base: authentic, not rebuilt" \
	otatool verify --trust-key "$K/p256.pub.pem" "$P/v2.otapkg"
assert_matches "$OUT" '\[ skip \] image app .*not rebuilt \(no --base\)'
assert_contains "$OUT" "verdict: VALID"
check "verify --json without --base" \
	otatool verify --json --trust-key "$K/p256.pub.pem" "$P/v2.otapkg"
assert_json "$OUT" '.images[0] | [.stored_digest_ok, .rebuilt]' '[true,false]'
expect_exit 2 "extract without --base: nothing written" \
	otatool extract --trust-key "$K/p256.pub.pem" -o "$W/nobase" "$P/v2.otapkg"
assert_contains "$ERR" 'image "app" is a patch against a base image'
assert_contains "$ERR" "--base"
assert_not_exists "$W/nobase"

# ---------------------------------------------------------- wrong bases

mkdir -p "$W/wrong" "$W/short" "$W/none"
cp "$W/fw1.bin" "$W/wrong/app.bin"
flip_byte "$W/wrong/app.bin" 100
head -c 1000 "$W/fw1.bin" >"$W/short/app.bin"
expect_exit 5 "a wrong base: refused, nothing written" \
	otatool extract --trust-key "$K/p256.pub.pem" --base "$W/wrong" \
	-o "$W/out-wrong" "$P/v2.otapkg"
assert_contains "$ERR" "not the base image \"app\" was made for: sha256 $(sha256sum "$W/fw1.bin" | cut -d' ' -f1) expected, $(sha256sum "$W/wrong/app.bin" | cut -d' ' -f1) found"
assert_not_exists "$W/out-wrong"
expect_exit 5 "a base of another size" \
	otatool verify -q --trust-key "$K/p256.pub.pem" --base "$W/short" "$P/v2.otapkg"
assert_contains "$ERR" "expected, $(sha256sum "$W/short/app.bin" | cut -d' ' -f1) found"
expect_exit 5 "the new release as its own base" \
	otatool verify --trust-key "$K/p256.pub.pem" --base "$W/out" "$P/v2.otapkg"
assert_matches "$OUT" '\[ FAIL \] image app .*not the base image'
expect_exit 3 "a base directory without the image" \
	otatool extract --trust-key "$K/p256.pub.pem" --base "$W/none" \
	-o "$W/out-none" "$P/v2.otapkg"
assert_contains "$ERR" "has no base image of that name (app.bin)"
assert_not_exists "$W/out-none"
expect_exit 5 "a base package signed by an untrusted key" \
	otatool extract --trust-key "$K/ed.pub.pem" --base "$P/v1.otapkg" \
	-o "$W/out-untrusted" "$P/v2.otapkg"
assert_contains "$ERR" "--base: "
assert_not_exists "$W/out-untrusted"
expect_exit 5 "package: --delta-from a package not signed by these keys" \
	otatool package -q --key "$K/ed.pem" --delta-from "$P/v1.otapkg" \
	-o "$P/x.otapkg" "$W/r2/release.yaml"
assert_contains "$ERR" "as the base release"
assert_not_exists "$P/x.otapkg"
check "package: --delta-from verified with --trust-key instead" \
	otatool package -q --key "$K/ed.pem" --trust-key "$K/p256.pub.pem" \
	--delta-from "$P/v1.otapkg" -o "$P/x.otapkg" "$W/r2/release.yaml"
expect_exit 2 "package: --delta-from may not be the output" \
	otatool package -q --key "$K/p256.pem" --delta-from "$P/v1.otapkg" \
	-o "$P/v1.otapkg" "$W/r2/release.yaml"
expect_exit 2 "a delta package cannot be a base itself" \
	otatool package -q --key "$K/p256.pem" --delta-from "$P/v2.otapkg" \
	-o "$P/v3.otapkg" "$W/r2/release.yaml"
assert_contains "$ERR" "give the release it was made from with --base"
expect_exit 2 "--delta-from is not for MCUboot" \
	otatool package -q --key "$K/p256.pem" --format mcuboot \
	--delta-from "$P/v1.otapkg" -o "$P/m.bin" "$W/r2/release.yaml"

# ------------------------------------------ --delta-from DIR, --compress

check "--delta-from a directory of NAME.bin, with --compress" \
	otatool package --key "$K/p256.pem" --compress --delta-from "$W/r1" \
	-o "$P/v2-dir.otapkg" "$W/r2/release.yaml"
assert_matches "$ERR" "image app: patch, .*instead of [0-9]+\)"
assert_matches "$ERR" "image cfg: (zlib|full)"
check "extract --base DIR" \
	otatool extract -q --trust-key "$K/p256.pub.pem" --base "$W/r1" \
	-o "$W/out-dir" "$P/v2-dir.otapkg"
assert_same_file "$W/out-dir/app.bin" "$W/fw2.bin"
assert_same_file "$W/out-dir/cfg.bin" "$W/cfg2.bin"
check "the same release from the same base: the same patch" \
	otatool inspect --json "$P/v2-dir.otapkg"
assert_json "$OUT" '.images[0].stored_digest' \
	"$(otatool inspect --json "$P/v2.otapkg" | jq -c '.images[0].stored_digest')"
# an image no smaller as a patch is stored as before
mkdir -p "$W/unrelated"
head -c 3000 /dev/urandom >"$W/unrelated/cfg.bin"
check "a base that does not help: stored whole" \
	otatool package --key "$K/p256.pem" --delta-from "$W/unrelated" \
	-o "$P/nohelp.otapkg" "$W/r2/release.yaml"
assert_contains "$ERR" "image app: full"
assert_contains "$ERR" "(no base of that name)"
assert_eq "$(od -An -tu2 -j4 -N2 "$P/nohelp.otapkg" | tr -d ' ')" 1 \
	"a package without a patch stays version 1"
check "signed manifest input (two-step flow)" \
	otatool manifest -q "$W/r2/release.yaml" -o "$W/m2.json"
check "sign it" otatool sign -q --key "$K/p256.pem" "$W/m2.json"
check "package the signed manifest --delta-from v1" \
	otatool package -q --key "$K/p256.pem" --delta-from "$P/v1.otapkg" \
	-o "$P/v2-signed.otapkg" "$W/m2.signed.json"
check "extract it" otatool extract -q --trust-key "$K/p256.pub.pem" \
	--base "$P/v1.otapkg" -o "$W/out-signed" "$P/v2-signed.otapkg"
assert_same_file "$W/out-signed/app.bin" "$W/fw2.bin"

# ------------------------------------------------------- several keys

check "delta with two keys" \
	otatool package -q --key "$K/p256.pem" --key "$K/ed.pem" \
	--delta-from "$P/v1.otapkg" -o "$P/v2-two.otapkg" "$W/r2/release.yaml"
check "each key alone verifies it and rebuilds" \
	otatool verify -q --trust-key "$K/ed.pub.pem" --base "$W/r1" "$P/v2-two.otapkg"

if [ -f "$SOFTHSM_MODULE" ]; then
	H=$T/softhsm
	make_token "$H" release
	URI='pkcs11:token=release;object=fw-delta'
	check "token: generate a P-256 key" \
		otatool keys generate -q --type ecdsa-p256 --key "$URI"
	check "token: export the public key" \
		otatool keys export-public "$URI" -o "$H/pub.pem"
	check "token: v1 signed in the token" \
		otatool package -q --key "$URI" -o "$P/t1.otapkg" "$W/r1/release.yaml"
	check "token: v2 as a delta, v1 trusted as the token's own" \
		otatool package -q --key "$URI" --delta-from "$P/t1.otapkg" \
		-o "$P/t2.otapkg" "$W/r2/release.yaml"
	check "token: extract --base" \
		otatool extract -q --trust-key "$H/pub.pem" --base "$P/t1.otapkg" \
		-o "$W/out-token" "$P/t2.otapkg"
	assert_same_file "$W/out-token/app.bin" "$W/fw2.bin"
else
	skip "SoftHSM tests" "$SOFTHSM_MODULE is missing"
fi

# --------------------------------------------- an MCUboot image as target

M=$W/mcuboot
mkdir -p "$M"
for v in 1 2; do
	check "MCUboot image v$v" \
		otatool package -q --format mcuboot --key "$K/p256.pem" --image app \
		-o "$M/app$v.bin" "$W/r$v/release.yaml"
done
release "$M/r1" 1.0.0 "$M/app1.bin" "$W/cfg1.bin"
release "$M/r2" 1.1.0 "$M/app2.bin" "$W/cfg2.bin"
check "delta of MCUboot images" \
	otatool package -q --key "$K/p256.pem" --delta-from "$M/r1" \
	-o "$M/d.otapkg" "$M/r2/release.yaml"
check "extract the MCUboot image" \
	otatool extract -q --trust-key "$K/p256.pub.pem" --base "$M/r1" \
	-o "$M/out" "$M/d.otapkg"
assert_same_file "$M/out/app.bin" "$M/app2.bin"
check "the rebuilt bytes pass MCUboot's check" \
	otatool verify --trust-key "$K/p256.pub.pem" "$M/out/app.bin"
assert_contains "$OUT" "MCUboot image"
assert_contains "$OUT" "verdict: VALID"
expect_exit 2 "verify --base is not for MCUboot images" \
	otatool verify --trust-key "$K/p256.pub.pem" --base "$M/r1" "$M/out/app.bin"

# ------------------------------------------- a patch that would overrun

# A hand-made package whose IMAGE TLV says one byte less than the patch
# builds: re-signed, so that only the applier's size check can refuse it.
python3 - "$P/v2.otapkg" "$P/overrun.otapkg" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
P = struct.unpack_from('<I', d, 16)[0]
pos = 64
while pos < 64 + P:
    t, l = struct.unpack_from('<HH', d, pos)
    if t == 0x10 and d[pos + 4 + 1] == 2:      # the patched IMAGE TLV
        size = struct.unpack_from('<Q', d, pos + 4 + 24)[0]
        struct.pack_into('<Q', d, pos + 4 + 24, size - 1)
    pos += 4 + ((l + 3) & ~3)
open(sys.argv[2], 'wb').write(d)
EOF
# re-sign: the signed region is [0, 64 + P); replace the one P-256 entry
python3 - "$P/overrun.otapkg" "$K/p256.pem" <<'EOF'
import hashlib, struct, subprocess, sys
path, key = sys.argv[1], sys.argv[2]
d = bytearray(open(path, 'rb').read())
P = struct.unpack_from('<I', d, 16)[0]
S = struct.unpack_from('<I', d, 20)[0]
h = hashlib.sha256(d[:64 + P]).digest()
sig = subprocess.run(['openssl', 'pkeyutl', '-sign', '-inkey', key],
                     input=h, capture_output=True, check=True).stdout
while len(sig) > 72 or (len(sig) + 3) // 4 * 4 != 72:
    sig = subprocess.run(['openssl', 'pkeyutl', '-sign', '-inkey', key],
                         input=h, capture_output=True, check=True).stdout
e = 64 + P + 4
struct.pack_into('<H', d, e + 2, len(sig))
d[e + 40:e + 40 + 72] = sig + bytes(72 - len(sig))
open(path, 'wb').write(d)
EOF
expect_exit 5 "a patch that builds more than its image's size" \
	otatool extract --trust-key "$K/p256.pub.pem" --base "$W/r1" \
	-o "$W/out-overrun" "$P/overrun.otapkg"
assert_matches "$ERR" 'the patch builds [0-9]+ bytes, the image has [0-9]+'
assert_not_exists "$W/out-overrun"
check "the re-signed package is otherwise authentic" \
	otatool verify -q --trust-key "$K/p256.pub.pem" "$P/overrun.otapkg"

# --------------------------------------- every bit flip and truncation

# A small delta package: 16-byte alignment, images of a few hundred bytes.
S=$W/small
mkdir -p "$S"
python3 - "$S" <<'EOF'
import sys
d = sys.argv[1]
v1 = bytes((i * 7) % 251 for i in range(400))
v2 = v1[:150] + b'NEW CODE' + v1[150:390]
open(d + '/a1.bin', 'wb').write(v1)
open(d + '/a2.bin', 'wb').write(v2)
EOF
release "$S/r1" 1.0.0 "$S/a1.bin" "$W/cfg1.bin"
release "$S/r2" 1.1.0 "$S/a2.bin" "$W/cfg2.bin"
check "small: delta package" \
	otatool package -q --key "$K/ed.pem" --alignment 16 --delta-from "$S/r1" \
	-o "$S/d.otapkg" "$S/r2/release.yaml"
check "small: it rebuilds" \
	otatool verify -q --trust-key "$K/ed.pub.pem" --base "$S/r1" "$S/d.otapkg"
SIZE=$(stat -c %s "$S/d.otapkg")
assert_mutations_refused trunc "$S/d.otapkg" 64 "$SIZE" \
	"every truncation of a delta package refused" \
	"$OTATOOL" verify -q --trust-key "$K/ed.pub.pem" --base "$S/r1"
if [ "$SANITIZED" = 0 ] || [ "${OTATOOL_TEST_FULL_WALK:-0}" = 1 ]; then
	assert_mutations_refused flip "$S/d.otapkg" 64 $((SIZE * 8)) \
		"every bit flip of a delta package refused" \
		"$OTATOOL" verify -q --trust-key "$K/ed.pub.pem" --base "$S/r1"
else
	assert_mutations_refused flip-sparse "$S/d.otapkg" 64 $((SIZE + 64 * 7)) \
		"bit flips of a delta package refused (sparse under sanitizers)" \
		"$OTATOOL" verify -q --trust-key "$K/ed.pub.pem" --base "$S/r1"
fi

[ "$REAL" = 1 ] || skip "real firmware round trip" "built code-like bytes instead"
finish
