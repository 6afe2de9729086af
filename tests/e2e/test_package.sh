# End-to-end tests of `otatool package` (otatool format), `verify`,
# `inspect` and `extract`: every package is read back byte by byte as
# src/device/otapkg.h lays it out (python3, dd, cmp), its signatures are
# checked with openssl, compressed images inflated with python's zlib; then
# every single-bit flip and every truncation of a small package, hostile
# length fields, refusals, and a SoftHSM token key.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl python3 softhsm2-util dd cmp

# Under ASan every run costs ~5x: the bit-flip walk then flips one bit per
# byte (all eight in the header) instead of all of them, to stay bounded.
# OTATOOL_TEST_FULL_WALK=1 walks every bit anyway.

FAKE_COMMIT=0123456789abcdef0123456789abcdef01234567

# ---------------------------------------------------------------- helpers

# An independent reader of the package layout (otapkg.h, byte by byte): it
# prints the raw fields as JSON and judges nothing, so that every check
# below is a jq or cmp assertion.
PY=$T/otapkg.py
cat >"$PY" <<'EOF'
import json, struct, sys

def u16(b, o): return struct.unpack_from('<H', b, o)[0]
def u32(b, o): return struct.unpack_from('<I', b, o)[0]
def u64(b, o): return struct.unpack_from('<Q', b, o)[0]
def zero(b): return all(x == 0 for x in b)
DLEN = {1: 32, 2: 48, 3: 64}

def parse(path):
    b = open(path, 'rb').read()
    P, S, A = u32(b, 16), u32(b, 20), u32(b, 24)
    j = {
        'file_size': len(b), 'magic': b[0:4].decode('latin-1'),
        'version': u16(b, 4), 'header_size': u16(b, 6), 'digest': b[8],
        'reserved9': b[9], 'image_count': u16(b, 10), 'flags': u32(b, 12),
        'P': P, 'S': S, 'A': A, 'reserved28': u32(b, 28),
        'total': u64(b, 32), 'reserved40_zero': zero(b[40:64]),
    }
    tlvs, images, pos = [], [], 64
    while pos + 4 <= 64 + P:
        t, l = u16(b, pos), u16(b, pos + 2)
        v = b[pos + 4:pos + 4 + l]
        padded = (l + 3) & ~3
        tlvs.append({'type': t, 'len': l, 'off': pos, 'hex': v.hex(),
                     'text': v.decode('latin-1'),
                     'pad_zero': zero(b[pos + 4 + l:pos + 4 + padded])})
        if t == 0x10:
            dl = DLEN.get(v[2], 0)
            nl, kl = v[4], v[5]
            images.append({
                'kind': v[0], 'compression': v[1], 'digest_alg': v[2],
                'flags': v[3], 'name_len': nl, 'kind_len': kl,
                'reserved6': u16(v, 6), 'offset': u64(v, 8),
                'stored_size': u64(v, 16), 'size': u64(v, 24),
                'load_address': u64(v, 32), 'digest': v[40:40 + dl].hex(),
                'stored_digest': v[40 + dl:40 + 2 * dl].hex(),
                'name': v[40 + 2 * dl:40 + 2 * dl + nl].decode('latin-1'),
                'custom_kind': v[40 + 2 * dl + nl:40 + 2 * dl + nl + kl]
                    .decode('latin-1')})
        pos += 4 + padded
    j['tlvs'], j['tlv_end'], j['images'] = tlvs, pos, images
    sb = 64 + P
    sigs, pos = [], sb + 4
    for _ in range(u16(b, sb)):
        alg, sl, cl = u16(b, pos), u16(b, pos + 2), u32(b, pos + 4)
        end = pos + 40 + ((sl + 3) & ~3)
        sigs.append({'off': pos, 'alg': alg, 'len': sl, 'certs_len': cl,
                     'keyid': b[pos + 8:pos + 40].hex(), 'sig_off': pos + 40,
                     'pad_zero': zero(b[pos + 40 + sl:end])})
        pos = end + cl
    j['sigblock'] = {'count': u16(b, sb), 'reserved': u16(b, sb + 2),
                     'entries': sigs, 'end': pos,
                     'rest_zero': zero(b[pos:sb + S])}
    # The bytes no field claims: before the first image, between images.
    gaps, prev = [], 64 + P + S
    for im in images:
        if im['offset'] >= prev:
            gaps.append({'from': prev, 'to': im['offset'],
                         'zero': zero(b[prev:im['offset']])})
        prev = im['offset'] + im['stored_size']
    j['gaps'] = gaps
    return j

def patch(src, dst, off, fmt, val):
    b = bytearray(open(src, 'rb').read())
    struct.pack_into('<' + fmt, b, int(off, 0), int(val, 0))
    open(dst, 'wb').write(b)

if sys.argv[1] == 'parse':
    print(json.dumps(parse(sys.argv[2])))
elif sys.argv[1] == 'patch':
    patch(*sys.argv[2:7])
elif sys.argv[1] == 'inflate':
    import zlib
    sys.stdout.buffer.write(zlib.decompress(open(sys.argv[2], 'rb').read()))
EOF

# layout PKG: the parsed layout as $L ({} if it cannot be read).
L=$T/layout.json
layout() {
	python3 "$PY" parse "$1" >"$L" 2>/dev/null || echo '{}' >"$L"
}

# lj FILTER: one value from $L.
lj() {
	jq -r "$1" "$L"
}

# stored PKG OFFSET LENGTH OUT: those bytes of PKG, by dd.
stored() {
	dd if="$1" of="$4" bs=65536 iflag=skip_bytes,count_bytes skip="$2" \
		count="$3" status=none
}

sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

# keyid_of PUB: SHA-256 of the DER SubjectPublicKeyInfo, by openssl.
keyid_of() {
	openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# genkey NAME OPENSSL-GENPKEY-ARGS...: $K/NAME.pem, $K/NAME.pub.pem.
K=$T/keys
mkdir -p "$K"
genkey() {
	local name=$1

	shift
	if ! openssl genpkey "$@" -out "$K/$name.pem" 2>/dev/null ||
		! openssl pkey -in "$K/$name.pem" -pubout -out "$K/$name.pub.pem"; then
		die "openssl genpkey $*"
	fi
}

genkey p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey p256b -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey stranger -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
genkey ed -algorithm ed25519
genkey rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048

# ossl_verify ALG PUB H SIG: openssl's verdict on a signature over H, the
# digest of the signed region, as otapkg.h describes each algorithm.
# shellcheck disable=SC2317 # called through check and expect_exit
ossl_verify() {
	case $1 in
	ecdsa)
		openssl pkeyutl -verify -pubin -inkey "$2" -in "$3" -sigfile "$4" ;;
	rsa-pss)
		openssl pkeyutl -verify -pubin -inkey "$2" -in "$3" -sigfile "$4" \
			-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 \
			-pkeyopt digest:sha256 ;;
	ed25519)
		openssl pkeyutl -verify -pubin -inkey "$2" -rawin -in "$3" \
			-sigfile "$4" ;;
	esac
}

# check_sig NAME PKG I ALG CODE PUB DGST: signature entry I of PKG ($L
# parsed) has algorithm CODE and PUB's key id, and openssl verifies it over
# H = DGST of the first 64 + P bytes; and not over a changed H.
check_sig() {
	local name=$1 pkg=$2 i=$3 alg=$4 code=$5 pub=$6 dgst=$7 d

	d=$(mktemp -d "$T/sig.XXXXXX")
	LAST_NAME="$name: signature $i"
	assert_eq "$(lj ".sigblock.entries[$i].alg")" "$code" "algorithm code"
	assert_eq "$(lj ".sigblock.entries[$i].keyid")" "$(keyid_of "$pub")" \
		"key id"
	assert_eq "$(lj ".sigblock.entries[$i].certs_len")" 0 \
		"certificates length"
	assert_eq "$(lj ".sigblock.entries[$i].pad_zero")" true \
		"zero padding after the signature"
	head -c $((64 + $(lj .P))) "$pkg" | openssl dgst "-$dgst" -binary >"$d/H"
	stored "$pkg" "$(lj ".sigblock.entries[$i].sig_off")" \
		"$(lj ".sigblock.entries[$i].len")" "$d/sig"
	check "$name: openssl verifies signature $i over H" \
		ossl_verify "$alg" "$pub" "$d/H" "$d/sig"
	assert_contains "$OUT" "Signature Verified Successfully"
	# The same signature over another digest must not verify.
	flip_byte "$d/H" 5
	expect_exit 1 "$name: openssl rejects signature $i over a changed H" \
		ossl_verify "$alg" "$pub" "$d/H" "$d/sig"
}

# check_layout NAME PKG ALIGN DIGEST-CODE NSIGS: the header, the protected
# region, the gaps and every image of PKG against otapkg.h and the sources
# in $IMGS (name:file pairs), uncompressed.
check_layout() {
	local name=$1 pkg=$2 align=$3 dcode=$4 nsigs=$5 i=0 spec img file
	local off size prev end

	layout "$pkg"
	LAST_NAME="$name: layout"
	assert_eq "$(lj .magic)" OTAP "magic"
	assert_eq "$(lj .version)" 1 "format version"
	assert_eq "$(lj .header_size)" 64 "header size"
	assert_eq "$(lj .digest)" "$dcode" "region digest byte 8"
	assert_eq "$(lj .reserved9)" 0 "reserved byte 9"
	assert_eq "$(lj .image_count)" "${#IMGS[@]}" "image count"
	assert_eq "$(lj .flags)" 0 "flags"
	assert_eq "$(lj .reserved28)" 0 "reserved u32 at 28"
	assert_eq "$(lj .reserved40_zero)" true "reserved bytes 40..63 zero"
	assert_eq "$(lj .A)" "$align" "alignment"
	assert_eq "$(lj .total)" "$(stat -c %s "$pkg")" "total size = file size"
	assert_eq "$(lj '.P % 4, .S % 4')" "$(printf '0\n0')" "P and S multiples of 4"
	assert_eq "$(lj '.tlv_end == 64 + .P')" true "TLVs fill P exactly"
	assert_eq "$(lj '[.tlvs[].type] | . == sort')" true "TLV types in order"
	assert_eq "$(lj '[.tlvs[].pad_zero] | all')" true "TLV padding zero"
	assert_eq "$(lj '[.tlvs[] | select(.type == 16)] | length')" \
		"${#IMGS[@]}" "one IMAGE TLV per image"
	assert_eq "$(lj .sigblock.count)" "$nsigs" "signature count"
	assert_eq "$(lj .sigblock.reserved)" 0 "signature block reserved"
	assert_eq "$(lj .sigblock.rest_zero)" true "signature block zero-padded"
	assert_eq "$(lj '.sigblock.end <= 64 + .P + .S')" true \
		"signatures fit the block"
	assert_eq "$(lj '[.gaps[].zero] | all')" true "zero padding between regions"
	assert_eq "$(lj '.gaps | length')" "${#IMGS[@]}" "a gap before every image"
	prev=$((64 + $(lj .P) + $(lj .S)))
	for spec in "${IMGS[@]}"; do
		img=${spec%%:*}
		file=${spec#*:}
		off=$(lj ".images[$i].offset")
		size=$(stat -c %s "$file")
		end=$(((prev + align - 1) / align * align))
		assert_eq "$(lj ".images[$i].name")" "$img" "image $i name"
		assert_eq "$off" "$end" "image $img offset: the next multiple of $align"
		assert_eq "$((off % align))" 0 "image $img offset aligned"
		assert_eq "$(lj ".images[$i].compression")" 0 "image $img uncompressed"
		assert_eq "$(lj ".images[$i].stored_size")" "$size" "image $img stored size"
		assert_eq "$(lj ".images[$i].size")" "$size" "image $img size"
		assert_eq "$(lj ".images[$i].digest_alg")" 1 "image $img digest sha256"
		assert_eq "$(lj ".images[$i].digest")" "$(sha "$file")" "image $img digest"
		assert_eq "$(lj ".images[$i].stored_digest")" "$(sha "$file")" \
			"image $img stored digest"
		assert_eq "$(lj ".images[$i].reserved6")" 0 "image $img reserved"
		stored "$pkg" "$off" "$size" "$T/stored.bin"
		cmp -s "$T/stored.bin" "$file"
		_assert $? "$name: image $img: stored bytes at $off differ from $file"
		prev=$((off + size))
		i=$((i + 1))
	done
	assert_eq "$prev" "$(lj .total)" "the last image ends the package"
}

# ---------------------------------------------------------------- fixtures

R=$T/rel
mkdir -p "$R/images"
head -c 3000 /dev/urandom >"$R/images/boot.bin"
seq 1 20000 >"$R/images/app.bin" # compressible
printf 'sample_rate=100\nmode=normal\n' >"$R/images/config.bin"
cat >"$R/release.yaml" <<EOF
name: acme-sensor-fw
version: 2.4.1-rc.1+build.7
hardware:
  - acme-sensor-rev-b
  - acme-sensor-rev-c
bootloader_min: 1.2.0
security_counter: 7
dependencies:
  - name: radio-fw
    range: ">=2.1.0 <3.0.0"
images:
  - name: mcuboot
    kind: bootloader
    file: images/boot.bin
    load_address: 0x08000000
  - name: app
    kind: application
    file: images/app.bin
    load_address: 0x08020000
  - name: settings
    kind: config
    file: images/config.bin
git:
  commit: $FAKE_COMMIT
build:
  time: 2026-11-24T09:00:00Z
  id: builder-1
EOF
IMGS=("mcuboot:$R/images/boot.bin" "app:$R/images/app.bin"
	"settings:$R/images/config.bin")
P=$T/pkgs
mkdir -p "$P"

# ---------------------------------------------------------------- one shot

for align in 16 512 4096; do
	check "release file, --alignment $align" \
		otatool package --key "$K/p256.pem" --alignment "$align" \
		-o "$P/a$align.otapkg" "$R/release.yaml"
	assert_contains "$ERR" "wrote $P/a$align.otapkg"
	check_layout "alignment $align" "$P/a$align.otapkg" "$align" 1 1
	check_sig "alignment $align" "$P/a$align.otapkg" 0 ecdsa 1 \
		"$K/p256.pub.pem" sha256
done

check "default alignment is 4096" \
	otatool package -q --key "$K/p256.pem" -o "$P/default.otapkg" \
	"$R/release.yaml"
assert_empty "$ERR"
layout "$P/default.otapkg"
assert_eq "$(lj .A)" 4096 "default alignment"
assert_eq "$(lj .images[0].offset)" 4096 "first image at the first page"

# The protected region, TLV by TLV (otapkg.h's types and encodings).
layout "$P/a16.otapkg"
LAST_NAME="protected TLVs"
tl() { jq -c "[.tlvs[] | select(.type == $1) | .$2]" "$L"; }
assert_eq "$(tl 1 text)" '["acme-sensor-fw"]' "NAME"
assert_eq "$(tl 2 text)" '["2.4.1-rc.1+build.7"]' "VERSION"
assert_eq "$(tl 3 hex)" '["07000000"]' "SECURITY_COUNTER u32 7"
assert_eq "$(tl 4 hex)" '["010000000200000000000000"]' "BOOTLOADER_MIN 1.2.0"
assert_eq "$(tl 5 text)" '["acme-sensor-rev-b","acme-sensor-rev-c"]' "HARDWARE"
assert_eq "$(tl 6 hex)" "[\"$FAKE_COMMIT\"]" "GIT_COMMIT raw 20 bytes"
assert_eq "$(tl 7 hex)" \
	"[\"$(printf '%016x' "$(date -u -d 2026-11-24T09:00:00Z +%s)" |
		sed 's/../& /g' | tr ' ' '\n' | tac | tr -d '\n')\"]" \
	"BUILD_TIME u64 seconds"
dep="radio-fw>=2.1.0 <3.0.0"
assert_eq "$(tl 8 hex)" "[\"08$(printf '%s' "$dep" | od -An -tx1 | tr -d ' \n')\"]" \
	"DEPENDENCY: name length, name, range"
assert_eq "$(lj '[.images[] | [.kind, .flags, .load_address, .name_len, .kind_len]]' | jq -c .)" \
	'[[1,1,134217728,7,0],[2,1,134348800,3,0],[3,0,0,8,0]]' \
	"IMAGE kinds, load address flags and values, name lengths"

# A custom kind travels as text after the name.
C=$T/custom
mkdir -p "$C"
printf 'calibration\n' >"$C/cal.bin"
cat >"$C/release.yaml" <<EOF
name: custom
version: 1.0.0
hardware: [board-1]
images:
  - name: cal
    kind: calibration-data
    file: cal.bin
git:
  commit: $FAKE_COMMIT
EOF
check "custom image kind" \
	otatool package -q --key "$K/p256.pem" --alignment 16 \
	-o "$P/custom.otapkg" "$C/release.yaml"
layout "$P/custom.otapkg"
assert_eq "$(lj '.images[0] | [.kind, .kind_len, .custom_kind, .name] | @json')" \
	'[255,16,"calibration-data","cal"]' "custom kind"
check "custom kind verifies" \
	otatool verify --json --trust-key "$K/p256.pub.pem" "$P/custom.otapkg"
assert_json "$OUT" '.images[0].kind' '"calibration-data"'

# Inside a git repository, without git: in the release file.
G=$T/repo
mkdir -p "$G/images"
cp "$R/images/"* "$G/images/"
sed '/^git:/,$d' "$R/release.yaml" >"$G/release.yaml"
make_git_repo "$G" v2.4.1
GHEAD=$(git -C "$G" rev-parse HEAD)
check "release file inside a git repository" \
	in_dir "$G" otatool package -q --key "$K/p256.pem" --alignment 512 \
	-o "$P/git.otapkg" release.yaml
check_layout "git repository" "$P/git.otapkg" 512 1 1
assert_eq "$(tl 6 hex)" "[\"$GHEAD\"]" "GIT_COMMIT is HEAD"
check "inspect: git commit" otatool inspect --json "$P/git.otapkg"
assert_json "$OUT" '.git_commit' "$(q "$GHEAD")"

# ---------------------------------------------------------------- manifests

M=$T/manifest
mkdir -p "$M"
cp -r "$R/images" "$M/"
cp "$R/release.yaml" "$M/"
check "manifest for the two-step flow" \
	otatool manifest -q -o "$M/m.json" "$M/release.yaml"
check "sign the manifest" otatool sign -q --key "$K/p256.pem" "$M/m.json"
assert_exists "$M/m.signed.json"

check "package an unsigned manifest" \
	otatool package -q --key "$K/ed.pem" --alignment 16 -o "$P/unsigned.otapkg" \
	"$M/m.json"
check_layout "unsigned manifest" "$P/unsigned.otapkg" 16 1 1

check "package a signed manifest, signed by --key" \
	otatool package -q --key "$K/p256.pem" --alignment 16 \
	-o "$P/signed.otapkg" "$M/m.signed.json"
check_layout "signed manifest" "$P/signed.otapkg" 16 1 1
check_sig "signed manifest" "$P/signed.otapkg" 0 ecdsa 1 "$K/p256.pub.pem" sha256

check "signed manifest by another key, --trust-key names it" \
	otatool package -q --key "$K/ed.pem" --trust-key "$K/p256.pub.pem" \
	--alignment 16 -o "$P/trusted.otapkg" "$M/m.signed.json"
check_layout "signed manifest, --trust-key" "$P/trusted.otapkg" 16 1 1

expect_exit 5 "signed manifest by another key, no trust: refused" \
	otatool package --key "$K/ed.pem" -o "$P/refused.otapkg" "$M/m.signed.json"
assert_contains "$ERR" "m.signed.json"
assert_contains "$ERR" "not trusted"
assert_not_exists "$P/refused.otapkg"
assert_no_temp "$P" refused.otapkg

expect_exit 5 "signed manifest, --trust-key of a stranger: refused" \
	otatool package --key "$K/p256.pem" --trust-key "$K/stranger.pub.pem" \
	-o "$P/refused.otapkg" "$M/m.signed.json"
assert_not_exists "$P/refused.otapkg"
assert_no_temp "$P" refused.otapkg

# A signature that no longer matches its payload.
jq -c '.payload |= (@base64d | sub("acme-sensor-fw"; "acme-sensor-fx") | @base64)' \
	"$M/m.signed.json" >"$M/forged.signed.json"
expect_exit 5 "signed manifest with a changed payload: refused" \
	otatool package --key "$K/p256.pem" -o "$P/refused.otapkg" \
	"$M/forged.signed.json"
assert_not_exists "$P/refused.otapkg"

cp "$R/images/config.bin" "$T/config.save"
printf 'sample_rate=999\nmode=normal\n' >"$M/images/config.bin"
expect_exit 5 "image changed after the signed manifest was made" \
	otatool package --key "$K/p256.pem" -o "$P/changed.otapkg" \
	"$M/m.signed.json"
assert_contains "$ERR" "settings"
assert_not_exists "$P/changed.otapkg"
assert_no_temp "$P" changed.otapkg
expect_exit 5 "image changed after the signed manifest, compressed" \
	otatool package --key "$K/p256.pem" --compress -o "$P/changed.otapkg" \
	"$M/m.signed.json"
assert_not_exists "$P/changed.otapkg"
assert_no_temp "$P" changed.otapkg
printf 'sample_rate=100\nmode=normal\nextra\n' >"$M/images/config.bin"
expect_exit 5 "image grew after the signed manifest was made" \
	otatool package --key "$K/p256.pem" -o "$P/changed.otapkg" \
	"$M/m.signed.json"
assert_not_exists "$P/changed.otapkg"
cp "$T/config.save" "$M/images/config.bin"

# ---------------------------------------------------------------- algorithms

check "P-384 key: region digest sha384" \
	otatool package -q --key "$K/p384.pem" --alignment 16 \
	-o "$P/p384.otapkg" "$R/release.yaml"
check_layout "P-384" "$P/p384.otapkg" 16 2 1
check_sig "P-384" "$P/p384.otapkg" 0 ecdsa 2 "$K/p384.pub.pem" sha384

check "RSA-PSS key" \
	otatool package -q --key "$K/rsa.pem" --alignment 16 \
	-o "$P/rsa.otapkg" "$R/release.yaml"
check_layout "RSA-PSS" "$P/rsa.otapkg" 16 1 1
check_sig "RSA-PSS" "$P/rsa.otapkg" 0 rsa-pss 3 "$K/rsa.pub.pem" sha256
assert_eq "$(lj .sigblock.entries[0].len)" 256 "RSA-2048 signature length"

check "Ed25519 key" \
	otatool package -q --key "$K/ed.pem" --alignment 16 \
	-o "$P/ed.otapkg" "$R/release.yaml"
check_layout "Ed25519" "$P/ed.otapkg" 16 1 1
check_sig "Ed25519" "$P/ed.otapkg" 0 ed25519 5 "$K/ed.pub.pem" sha256
assert_eq "$(lj .sigblock.entries[0].len)" 64 "Ed25519 signature length"

for k in p384 rsa ed; do
	check "verify the $k package" \
		otatool verify -q --trust-key "$K/$k.pub.pem" "$P/$k.otapkg"
	expect_exit 5 "the $k package with another trusted key" \
		otatool verify -q --trust-key "$K/p256.pub.pem" "$P/$k.otapkg"
done

check "two keys sign" \
	otatool package -q --key "$K/p256.pem" --key "$K/ed.pem" --alignment 16 \
	-o "$P/two.otapkg" "$R/release.yaml"
check_layout "two keys" "$P/two.otapkg" 16 1 2
check_sig "two keys" "$P/two.otapkg" 0 ecdsa 1 "$K/p256.pub.pem" sha256
check_sig "two keys" "$P/two.otapkg" 1 ed25519 5 "$K/ed.pub.pem" sha256
check "two keys: verifies with the first trusted" \
	otatool verify --trust-key "$K/p256.pub.pem" "$P/two.otapkg"
assert_contains "$OUT" "verdict: VALID"
check "two keys: verifies with the second trusted" \
	otatool verify --json --trust-key "$K/ed.pub.pem" "$P/two.otapkg"
assert_json "$OUT" '.verdict' '"valid"'
assert_json "$OUT" '.trusted_signature' '1'
assert_json "$OUT" '[.signatures[].verdict]' '["untrusted-key","valid"]'
expect_exit 5 "two keys: neither trusted" \
	otatool verify --trust-key "$K/stranger.pub.pem" "$P/two.otapkg"
assert_contains "$OUT" "verdict: REFUSED"
assert_contains "$ERR" "offset"

# ---------------------------------------------------------------- compression

check "--compress-image app" \
	otatool package -q --key "$K/p256.pem" --alignment 16 \
	--compress-image app -o "$P/capp.otapkg" "$R/release.yaml"
layout "$P/capp.otapkg"
LAST_NAME="--compress-image app"
assert_eq "$(lj '[.images[].compression] | @json')" '[0,1,0]' \
	"only app has the zlib flag"
assert_eq "$(lj .images[1].size)" "$(stat -c %s "$R/images/app.bin")" \
	"app size is the inflated size"
assert_eq "$(lj '.images[1].stored_size < .images[1].size')" true \
	"app stored compressed"
assert_eq "$(lj '[.images[].offset % 16 == 0] | all')" true "aligned"
assert_eq "$(lj '[.gaps[].zero] | all')" true "zero padding"
assert_eq "$(lj .total)" "$(stat -c %s "$P/capp.otapkg")" "total size"
stored "$P/capp.otapkg" "$(lj .images[1].offset)" "$(lj .images[1].stored_size)" \
	"$T/app.z"
assert_eq "$(lj .images[1].stored_digest)" "$(sha "$T/app.z")" \
	"stored digest is of the compressed bytes"
assert_eq "$(lj .images[1].digest)" "$(sha "$R/images/app.bin")" \
	"digest is of the flashed bytes"
python3 "$PY" inflate "$T/app.z" >"$T/app.inflated"
_assert $? "python zlib inflates the stored bytes"
assert_same_file "$T/app.inflated" "$R/images/app.bin"
stored "$P/capp.otapkg" "$(lj .images[0].offset)" 3000 "$T/boot.stored"
assert_same_file "$T/boot.stored" "$R/images/boot.bin"
check_sig "--compress-image" "$P/capp.otapkg" 0 ecdsa 1 "$K/p256.pub.pem" sha256

check "--compress (every image)" \
	otatool package -q --key "$K/p256.pem" --alignment 512 --compress \
	-o "$P/call.otapkg" "$M/m.signed.json"
layout "$P/call.otapkg"
LAST_NAME="--compress"
assert_eq "$(lj '[.images[].compression] | @json')" '[1,1,1]' "all zlib"
i=0
for spec in "${IMGS[@]}"; do
	stored "$P/call.otapkg" "$(lj ".images[$i].offset")" \
		"$(lj ".images[$i].stored_size")" "$T/z"
	python3 "$PY" inflate "$T/z" >"$T/inflated"
	assert_same_file "$T/inflated" "${spec#*:}"
	assert_eq "$(lj ".images[$i].offset % 512")" 0 "image $i aligned"
	i=$((i + 1))
done
check "--compress verifies" \
	otatool verify --trust-key "$K/p256.pub.pem" "$P/call.otapkg"
assert_contains "$OUT" "(zlib)"
assert_matches "$OUT" 'image app .*digest matches'

rm -rf "$T/x"
check "extract a compressed package" \
	otatool extract --trust-key "$K/p256.pub.pem" -o "$T/x" "$P/capp.otapkg"
for spec in "${IMGS[@]}"; do
	assert_same_file "$T/x/${spec%%:*}.bin" "${spec#*:}"
done
assert_contains "$ERR" "$T/x/app.bin ($(stat -c %s "$R/images/app.bin") bytes, verified)"

expect_exit 2 "--compress-image with an unknown name" \
	otatool package --key "$K/p256.pem" --compress-image nope \
	-o "$P/nope.otapkg" "$R/release.yaml"
assert_contains "$ERR" "nope"
assert_not_exists "$P/nope.otapkg"
assert_no_temp "$P" nope.otapkg

# ---------------------------------------------------------------- verify

PK=$P/a16.otapkg
check "verify: human report" \
	otatool verify --trust-key "$K/p256.pub.pem" "$PK"
assert_contains "$OUT" "$PK: otatool package"
assert_matches "$OUT" '^\[  ok  \] structure '
assert_matches "$OUT" '^\[  ok  \] signature 0 .*by trusted key'
assert_matches "$OUT" '^\[  ok  \] image mcuboot +bootloader, 3000 bytes: digest matches'
assert_matches "$OUT" "^\[  ok  \] image app +application, $(stat -c %s "$R/images/app.bin") bytes"
assert_matches "$OUT" '^\[  ok  \] image settings +config, 28 bytes'
assert_matches "$OUT" '^\[  ok  \] end of package '
assert_contains "$OUT" "verdict: VALID"
assert_not_contains "$OUT" "FAIL"

check "verify --json" otatool verify --json --trust-key "$K/p256.pub.pem" "$PK"
assert_json "$OUT" '.verdict' '"valid"'
assert_json "$OUT" '.exit_status' '0'
assert_json "$OUT" '[.checks[].result] | unique' '["ok"]'
assert_json "$OUT" '[.checks[].check]' \
	'["structure","signature 0","image mcuboot","image app","image settings","end of package"]'
assert_json "$OUT" '.signatures[0].verdict' '"valid"'
assert_json "$OUT" '[.images[].digest_ok] | all' 'true'

check "verify -q: nothing printed" \
	otatool verify -q --trust-key "$K/p256.pub.pem" "$PK"
assert_empty "$OUT"
assert_empty "$ERR"

check "verify: the private key file as --trust-key" \
	otatool verify -q --trust-key "$K/p256.pem" "$PK"

expect_exit 5 "verify: untrusted key" \
	otatool verify --trust-key "$K/stranger.pub.pem" "$PK"
assert_matches "$OUT" '^\[ FAIL \] signature 0 '
assert_contains "$OUT" "verdict: REFUSED"
assert_contains "$ERR" "no signature is by a trusted key"
expect_exit 5 "verify --json: untrusted key reported" \
	otatool verify --json --trust-key "$K/stranger.pub.pem" "$PK"
assert_json "$OUT" '.verdict' '"refused"'
assert_json "$OUT" '.exit_status' '5'
assert_json "$OUT" '[.checks[] | select(.check == "signature 0") | .result]' '["fail"]'

expect_exit 2 "verify without any trust" otatool verify "$PK"
assert_contains "$ERR" "--trust-key"

# Device policy.
check "policy: listed hardware, equal counter, new enough bootloader" \
	otatool verify --trust-key "$K/p256.pub.pem" --hardware acme-sensor-rev-c \
	--counter 7 --bootloader-version 1.2.0 "$PK"
assert_matches "$OUT" '^\[  ok  \] hardware +device hardware acme-sensor-rev-c is listed'
assert_matches "$OUT" '^\[  ok  \] security counter +release counter 7 >= device counter 7'
assert_matches "$OUT" '^\[  ok  \] bootloader +device bootloader 1.2.0 meets the minimum'
check "policy: lower counter, newer bootloader" \
	otatool verify -q --trust-key "$K/p256.pub.pem" --counter 0 \
	--bootloader-version 3.0.0 "$PK"

expect_exit 11 "policy: hardware not listed" \
	otatool verify --trust-key "$K/p256.pub.pem" --hardware acme-sensor-rev-a "$PK"
assert_matches "$OUT" '^\[ FAIL \] hardware +device hardware acme-sensor-rev-a is not listed'
assert_contains "$ERR" "hardware"
assert_contains "$ERR" "offset"
expect_exit 11 "policy --json: hardware" \
	otatool verify --json --trust-key "$K/p256.pub.pem" --hardware x "$PK"
assert_json "$OUT" '[.verdict, .exit_status]' '["refused",11]'

expect_exit 10 "policy: device counter above the package's" \
	otatool verify --trust-key "$K/p256.pub.pem" --counter 8 "$PK"
assert_matches "$OUT" '^\[ FAIL \] security counter +release counter 7 < device counter 8'
assert_contains "$ERR" "security counter 7"

expect_exit 12 "policy: bootloader too old" \
	otatool verify --trust-key "$K/p256.pub.pem" --bootloader-version 1.1.9 "$PK"
assert_matches "$OUT" '^\[ FAIL \] bootloader '
assert_contains "$ERR" "bootloader"

# Policy is judged only after a signature verified: an untrusted package
# learns nothing.
expect_exit 5 "policy failures of an untrusted package are a signature failure" \
	otatool verify --trust-key "$K/stranger.pub.pem" --hardware nope \
	--counter 99 "$PK"
assert_matches "$OUT" '^\[ skip \] hardware '

# ---------------------------------------------------------------- inspect

check "inspect --json" otatool inspect --json "$PK"
layout "$PK"
LAST_NAME="inspect --json"
assert_json "$OUT" '.format' '"otatool-package"'
assert_json "$OUT" '.file_size' "$(stat -c %s "$PK")"
assert_json "$OUT" '.header' \
	"{\"format_version\":1,\"region_digest\":\"sha256\",\"protected_size\":$(lj .P),\"signature_block_size\":$(lj .S),\"alignment\":16,\"total_size\":$(stat -c %s "$PK")}"
assert_json "$OUT" '.name' '"acme-sensor-fw"'
assert_json "$OUT" '.version' '"2.4.1-rc.1+build.7"'
assert_json "$OUT" '.security_counter' '7'
assert_json "$OUT" '.bootloader_min' '"1.2.0"'
assert_json "$OUT" '.hardware' '["acme-sensor-rev-b","acme-sensor-rev-c"]'
assert_json "$OUT" '.git_commit' "$(q "$FAKE_COMMIT")"
assert_json "$OUT" '.build_time' '"2026-11-24T09:00:00Z"'
assert_json "$OUT" '.dependencies' '[{"name":"radio-fw","range":">=2.1.0 <3.0.0"}]'
assert_json "$OUT" '[.images[].name]' '["mcuboot","app","settings"]'
assert_json "$OUT" '[.images[].kind]' '["bootloader","application","config"]'
assert_json "$OUT" '[.images[].load_address]' '["0x08000000","0x08020000",null]'
assert_json "$OUT" '[.images[].compression] | unique' '["none"]'
assert_json "$OUT" '[.images[].offset]' "$(lj '[.images[].offset]' | jq -c .)"
assert_json "$OUT" '[.images[].stored_size]' \
	"[3000,$(stat -c %s "$R/images/app.bin"),28]"
assert_json "$OUT" '[.images[].size]' "[3000,$(stat -c %s "$R/images/app.bin"),28]"
assert_json "$OUT" '[.images[].digest]' \
	"[\"$(sha "$R/images/boot.bin")\",\"$(sha "$R/images/app.bin")\",\"$(sha "$R/images/config.bin")\"]"
assert_json "$OUT" '[.images[].digest_ok] | all' 'true'
assert_json "$OUT" '.signatures | length' '1'
assert_json "$OUT" '.signatures[0].algorithm' '"ecdsa-p256-sha256"'
assert_json "$OUT" '.signatures[0].keyid' "$(q "$(keyid_of "$K/p256.pub.pem")")"
assert_json "$OUT" '.signatures[0].certificates' '0'
assert_json "$OUT" '.signature_checked' 'false'
assert_json "$OUT" '.status' '"ok"'

check "inspect (human)" otatool inspect "$PK"
assert_contains "$OUT" "$PK: otatool package, format 1, $(stat -c %s "$PK") bytes"
assert_contains "$OUT" "alignment 16 B, total $(stat -c %s "$PK") B"
assert_matches "$OUT" '^  name: +acme-sensor-fw$'
assert_matches "$OUT" '^  version: +2\.4\.1-rc\.1\+build\.7$'
assert_matches "$OUT" '^  counter: +7$'
assert_matches "$OUT" '^  bootloader: +>= 1\.2\.0$'
assert_matches "$OUT" '^  hardware: +acme-sensor-rev-b acme-sensor-rev-c$'
assert_matches "$OUT" "^  git commit: +$FAKE_COMMIT\$"
assert_matches "$OUT" '^  build time: +2026-11-24T09:00:00Z$'
assert_matches "$OUT" '^  depends on: +radio-fw >=2\.1\.0 <3\.0\.0$'
assert_matches "$OUT" "^    0 mcuboot +bootloader +offset $(lj .images[0].offset) +3000 B stored, 3000 B flashed\$"
assert_matches "$OUT" "^    2 settings +config +offset $(lj .images[2].offset) +28 B stored"
assert_contains "$OUT" "load address 0x08020000"
assert_contains "$OUT" "digest $(sha "$R/images/app.bin") (checked)"
assert_contains "$OUT" "ecdsa-p256-sha256 key $(keyid_of "$K/p256.pub.pem"), 0 certificates"
assert_contains "$OUT" "structure:     valid"

check "inspect: two signatures, key ids" otatool inspect --json "$P/two.otapkg"
assert_json "$OUT" '[.signatures[].keyid]' \
	"[\"$(keyid_of "$K/p256.pub.pem")\",\"$(keyid_of "$K/ed.pub.pem")\"]"
assert_json "$OUT" '[.signatures[].algorithm]' '["ecdsa-p256-sha256","ed25519"]'
check "inspect: P-384 region digest" otatool inspect --json "$P/p384.otapkg"
assert_json "$OUT" '.header.region_digest' '"sha384"'
check "inspect: compressed image" otatool inspect --json "$P/capp.otapkg"
assert_json "$OUT" '[.images[].compression]' '["none","zlib","none"]'
layout "$P/capp.otapkg"
assert_json "$OUT" '.images[1].stored_size' "$(lj .images[1].stored_size)"

# ---------------------------------------------------------------- extract

rm -rf "$T/ex"
check "extract" \
	otatool extract --trust-key "$K/p256.pub.pem" -o "$T/ex" "$P/a4096.otapkg"
for spec in "${IMGS[@]}"; do
	assert_same_file "$T/ex/${spec%%:*}.bin" "${spec#*:}"
done
assert_eq "$(find "$T/ex" -type f | wc -l)" 3 "three files extracted"
assert_contains "$ERR" "$T/ex/mcuboot.bin (3000 bytes, verified)"

cp "$P/a4096.otapkg" "$P/tampered.otapkg"
layout "$P/tampered.otapkg"
off=$(($(lj .images[2].offset) + 3))
printf 'X' | dd of="$P/tampered.otapkg" bs=1 seek="$off" conv=notrunc status=none
rm -rf "$T/ex2"
expect_exit 5 "extract: tampered image byte, nothing written" \
	otatool extract --trust-key "$K/p256.pub.pem" -o "$T/ex2" "$P/tampered.otapkg"
assert_contains "$ERR" "offset"
assert_eq "$(find "$T/ex2" -mindepth 1 2>/dev/null | wc -l)" 0 \
	"no file (or temporary) left in the extract directory"
expect_exit 5 "verify: tampered image byte" \
	otatool verify --trust-key "$K/p256.pub.pem" "$P/tampered.otapkg"
assert_matches "$OUT" '^\[  ok  \] image mcuboot '
assert_matches "$OUT" '^\[ FAIL \] image settings '

rm -rf "$T/ex3"
expect_exit 5 "extract: wrong key, nothing written" \
	otatool extract --trust-key "$K/stranger.pub.pem" -o "$T/ex3" "$P/a4096.otapkg"
assert_eq "$(find "$T/ex3" -mindepth 1 2>/dev/null | wc -l)" 0 \
	"no file (or temporary) left in the extract directory"

mkdir -p "$T/ex4"
echo "old" >"$T/ex4/keep.txt"
expect_exit 5 "extract: an existing directory is left as it was" \
	otatool extract --trust-key "$K/p256.pub.pem" -o "$T/ex4" "$P/tampered.otapkg"
assert_eq "$(ls -A "$T/ex4")" keep.txt "only the old file remains"

expect_exit 2 "extract without -o" \
	otatool extract --trust-key "$K/p256.pub.pem" "$P/a4096.otapkg"
expect_exit 2 "extract without trust" otatool extract -o "$T/ex5" "$P/a4096.otapkg"
assert_not_exists "$T/ex5/mcuboot.bin"

# ---------------------------------------------------------------- bad input

B=$T/bad
mkdir -p "$B"
# nothing_left NAME: no package and no temporary beside it.
nothing_left() {
	assert_not_exists "$B/$1"
	assert_no_temp "$B" "$1"
}

mv "$R/images/config.bin" "$T/config.away"
mv "$M/images/config.bin" "$T/config.away2"
expect_exit 3 "missing image (release file)" \
	otatool package --key "$K/p256.pem" -o "$B/out.otapkg" "$R/release.yaml"
assert_contains "$ERR" "config.bin"
nothing_left out.otapkg
expect_exit 3 "missing image (manifest)" \
	otatool package --key "$K/p256.pem" -o "$B/out.otapkg" "$M/m.json"
assert_contains "$ERR" "config.bin"
nothing_left out.otapkg
expect_exit 3 "missing image (signed manifest)" \
	otatool package --key "$K/p256.pem" -o "$B/out.otapkg" "$M/m.signed.json"
assert_contains "$ERR" "config.bin"
nothing_left out.otapkg
mv "$T/config.away" "$R/images/config.bin"
mv "$T/config.away2" "$M/images/config.bin"

expect_exit 2 "no --key" otatool package -o "$B/out.otapkg" "$R/release.yaml"
assert_contains "$ERR" "--key"
nothing_left out.otapkg
expect_exit 2 "no -o" otatool package --key "$K/p256.pem" "$R/release.yaml"
expect_exit 2 "no input" otatool package --key "$K/p256.pem" -o "$B/out.otapkg"
nothing_left out.otapkg

for a in 0 8 15 24 100 4095 2097152 abc; do
	expect_exit 2 "--alignment $a is refused" \
		otatool package --key "$K/p256.pem" --alignment "$a" \
		-o "$B/out.otapkg" "$R/release.yaml"
	assert_contains "$ERR" "alignment"
	nothing_left out.otapkg
	rm -f "$B/out.otapkg" # so that one failure does not cascade
done
check "--alignment 1048576 (the largest)" \
	otatool package -q --key "$K/p256.pem" --alignment 1048576 \
	-o "$B/big.otapkg" "$C/release.yaml"
layout "$B/big.otapkg"
assert_eq "$(lj .images[0].offset)" 1048576 "image at 1 MiB"
rm -f "$B/big.otapkg"

expect_exit 4 "output into a missing directory" \
	otatool package --key "$K/p256.pem" -o "$B/nodir/out.otapkg" "$R/release.yaml"
assert_contains "$ERR" "$B/nodir"
assert_not_exists "$B/nodir"

expect_exit 7 "a key file that is not a key" \
	otatool package --key "$R/images/config.bin" -o "$B/out.otapkg" \
	"$R/release.yaml"
nothing_left out.otapkg

printf 'not: [valid' >"$B/broken.yaml"
expect_exit 3 "broken release file" \
	otatool package --key "$K/p256.pem" -o "$B/out.otapkg" "$B/broken.yaml"
nothing_left out.otapkg

# A failure must not clobber an existing output either.
echo "previous" >"$B/keep.otapkg"
mv "$R/images/boot.bin" "$T/boot.away"
expect_exit 3 "failure leaves an existing output alone" \
	otatool package --key "$K/p256.pem" -o "$B/keep.otapkg" "$R/release.yaml"
mv "$T/boot.away" "$R/images/boot.bin"
assert_eq "$(cat "$B/keep.otapkg")" previous "old output intact"
assert_no_temp "$B" keep.otapkg
assert_eq "$(find "$B" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')" \
	"broken.yaml keep.otapkg " \
	"nothing else left in the output directory"

# ---------------------------------------------------------------- robustness

# A small package: two images of a few bytes, alignment 16, one P-256 key.
SM=$T/small
mkdir -p "$SM"
printf 'abc' >"$SM/x.bin"
printf 'hello' >"$SM/y.bin"
cat >"$SM/release.yaml" <<EOF
name: s
version: 1.0.0
hardware: [h]
images:
  - name: x
    kind: application
    file: x.bin
  - name: y
    kind: config
    file: y.bin
git:
  commit: $FAKE_COMMIT
EOF
SP=$SM/s.otapkg
check "small package" \
	otatool package -q --key "$K/p256.pem" --alignment 16 -o "$SP" \
	"$SM/release.yaml"
check "small package verifies" otatool verify -q --trust-key "$K/p256.pub.pem" "$SP"
SIZE=$(stat -c %s "$SP")
VERIFY=(otatool verify -q --trust-key "$K/p256.pub.pem")

if [ "$SANITIZED" = 0 ] || [ "${OTATOOL_TEST_FULL_WALK:-0}" = 1 ]; then
	assert_mutations_refused flip "$SP" 64 $((SIZE * 8)) \
		"every single-bit flip is refused" "${VERIFY[@]}"
else
	assert_mutations_refused flip-sparse "$SP" 64 $((SIZE + 64 * 7)) \
		"a bit flip in every byte is refused (sanitized build)" \
		"${VERIFY[@]}"
fi
assert_mutations_refused trunc "$SP" 64 "$SIZE" "every truncation is refused" \
	"${VERIFY[@]}"

cp "$SP" "$SM/appended.otapkg"
printf '\0' >>"$SM/appended.otapkg"
expect_exit 5 "one appended byte" "${VERIFY[@]}" "$SM/appended.otapkg"
assert_contains "$ERR" "offset $SIZE"

expect_exit 3 "empty file" "${VERIFY[@]}" /dev/null
: >"$SM/empty.otapkg"
expect_exit 3 "empty package file" "${VERIFY[@]}" "$SM/empty.otapkg"

# hostile NAME OFFSET FMT VALUE [offset]: SP with that field patched must
# be refused with exit 5, naming a byte offset if asked, without a crash.
hostile() {
	local name=$1 off=$2 fmt=$3 val=$4 want_offset=${5:-}

	python3 "$PY" patch "$SP" "$SM/h.otapkg" "$off" "$fmt" "$val" ||
		die "patch $off"
	cmp -s "$SP" "$SM/h.otapkg"
	_assert $((!$?)) "$name: the patch changed nothing"
	expect_exit 5 "$name" "${VERIFY[@]}" "$SM/h.otapkg"
	[ -z "$want_offset" ] || assert_matches "$ERR" 'offset [0-9]+'
	expect_exit 5 "$name (inspect)" otatool inspect "$SM/h.otapkg"
}

layout "$SP"
SP_P=$(lj .P)
for v in 0 4 0xFFFFFFFC 0xFFFFFFFF 0x7FFFFFFF $((SP_P + 4)) $((SP_P - 4)) 65540; do
	hostile "header P = $v" 16 I "$v" offset
done
# S + A moves the first image: structure, not only the signature.
for v in 0 4 0xFFFFFFFC 0xFFFFFFFF $(($(lj .S) + 16)) 262148; do
	hostile "header S = $v" 20 I "$v" offset
done
for v in 0 8 32 0x80000000 0xFFFFFFFF 0x100000 0x200000; do
	hostile "header A = $v" 24 I "$v" offset
done
for v in 0 1 $((SIZE - 1)) $((SIZE + 1)) 0xFFFFFFFF 0xFFFFFFFFFFFFFFF0 \
	0xFFFFFFFFFFFFFFFF 0x8000000000000000; do
	hostile "header total size = $v" 32 Q "$v" offset
done
for v in 0 1 3 33 0xFFFF; do
	hostile "header image count = $v" 10 H "$v" offset
done
hostile "header size = 0xFFFF" 6 H 0xFFFF offset
hostile "header format version = 2" 4 H 2 offset
hostile "header digest byte = 0" 8 B 0 offset
hostile "header digest byte = 3" 8 B 3 offset
hostile "header flags" 12 I 1 offset

# IMAGE TLV fields: covered by the signature, so any error will do.
for i in 0 1; do
	at=$(lj ".tlvs[] | select(.type == 16) | .off" | sed -n "$((i + 1))p")
	for v in 0 0xFFFFFFFF 0xFFFFFFFFFFFFFFF0 0xFFFFFFFFFFFFFFFF $((SIZE - 1)); do
		hostile "image $i offset = $v" $((at + 4 + 8)) Q "$v"
		hostile "image $i stored size = $v" $((at + 4 + 16)) Q "$v"
		hostile "image $i size = $v" $((at + 4 + 24)) Q "$v"
	done
	hostile "image $i TLV length = 0xFFFF" $((at + 2)) H 0xFFFF
	hostile "image $i name length = 0xFF" $((at + 4 + 4)) B 0xFF
done
SB=$((64 + SP_P))
hostile "signature count = 0xFFFF" "$SB" H 0xFFFF offset
hostile "signature length = 0xFFFF" $((SB + 6)) H 0xFFFF offset
hostile "signature length = 0" $((SB + 6)) H 0 offset
hostile "signature certificates length = 0xFFFFFFFC" $((SB + 8)) I 0xFFFFFFFC offset
hostile "signature certificates length = 4" $((SB + 8)) I 4

# ---------------------------------------------------------------- SoftHSM

if [ -f "$SOFTHSM_MODULE" ]; then
	H=$T/softhsm
	make_token "$H" release
	URI='pkcs11:token=release;object=fw-signing'
	check "token: generate a P-256 key" \
		otatool keys generate -q --type ecdsa-p256 --key "$URI"
	check "token: export the public key" \
		otatool keys export-public "$URI" -o "$H/pub.pem"
	check "token: package signed inside the token" \
		otatool package -q --key "$URI" --alignment 16 -o "$P/token.otapkg" \
		"$R/release.yaml"
	check_layout "token" "$P/token.otapkg" 16 1 1
	check_sig "token" "$P/token.otapkg" 0 ecdsa 1 "$H/pub.pem" sha256
	check "token: verifies with the exported public key" \
		otatool verify --trust-key "$H/pub.pem" "$P/token.otapkg"
	assert_contains "$OUT" "verdict: VALID"
	expect_exit 5 "token: not with another key" \
		otatool verify -q --trust-key "$K/p256.pub.pem" "$P/token.otapkg"
	check "token and file key together" \
		otatool package -q --key "$URI" --key "$K/ed.pem" --alignment 16 \
		-o "$P/token2.otapkg" "$M/m.json"
	check_layout "token and file" "$P/token2.otapkg" 16 1 2
	check_sig "token and file" "$P/token2.otapkg" 0 ecdsa 1 "$H/pub.pem" sha256
	check_sig "token and file" "$P/token2.otapkg" 1 ed25519 5 "$K/ed.pub.pem" sha256
	expect_exit 7 "token: a key that does not exist" \
		otatool package --key 'pkcs11:token=release;object=nope' \
		-o "$B/tok.otapkg" "$R/release.yaml"
	nothing_left tok.otapkg
else
	skip "SoftHSM tests" "$SOFTHSM_MODULE is missing"
fi

finish
