# End-to-end tests of `otatool package --format mcuboot`, and of verify and
# inspect on MCUboot images: every image is read back byte by byte as
# otatool-mcuboot(5) (man/otatool-mcuboot.5, imgtool 2.4.0's layout) describes
# it, with python3, dd and cmp; its hash, KEYHASH and signature are checked
# with openssl, for P-256, P-384, RSA-2048, RSA-3072, Ed25519 key files and
# a SoftHSM P-256 key; then refusals, tampering, and every truncation and
# bit flip of a small image.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl python3 softhsm2-util dd cmp

FAKE_COMMIT=0123456789abcdef0123456789abcdef01234567

# ---------------------------------------------------------------- helpers

# An independent reader of the MCUboot layout: raw fields as JSON, judging
# nothing; the checks are jq, cmp and openssl below.
PY=$T/mcuboot.py
cat >"$PY" <<'EOF'
import json, struct, sys

def u16(b, o): return struct.unpack_from('<H', b, o)[0]
def u32(b, o): return struct.unpack_from('<I', b, o)[0]

def area(b, off):
    if off + 4 > len(b):
        return None
    magic, total = u16(b, off), u16(b, off + 2)
    tlvs, pos = [], off + 4
    while pos + 4 <= off + total and pos + 4 <= len(b):
        t, l = u16(b, pos), u16(b, pos + 2)
        tlvs.append({'type': t, 'len': l, 'off': pos,
                     'hex': b[pos + 4:pos + 4 + l].hex()})
        pos += 4 + l
    return {'off': off, 'magic': magic, 'total': total, 'tlvs': tlvs,
            'end': pos}

def parse(path):
    b = open(path, 'rb').read()
    hs, ps, isz = u16(b, 8), u16(b, 10), u32(b, 12)
    j = {'file_size': len(b), 'magic': u32(b, 0), 'load_addr': u32(b, 4),
         'hdr_size': hs, 'protect_tlv_size': ps, 'img_size': isz,
         'flags': u32(b, 16), 'major': b[20], 'minor': b[21],
         'revision': u16(b, 22), 'build': u32(b, 24), 'pad28': u32(b, 28),
         'header_padding': sorted(set(b[32:hs]))}
    p = hs + isz
    j['protected'] = area(b, p) if ps else None
    j['unprotected'] = area(b, p + ps)
    return j

if sys.argv[1] == 'parse':
    print(json.dumps(parse(sys.argv[2])))
elif sys.argv[1] == 'patch':
    src, dst, off, fmt, val = sys.argv[2:7]
    b = bytearray(open(src, 'rb').read())
    struct.pack_into('<' + fmt, b, int(off, 0), int(val, 0))
    open(dst, 'wb').write(b)
EOF

L=$T/layout.json
# layout IMG: the parsed image as $L ({} if it cannot be read).
layout() {
	python3 "$PY" parse "$1" >"$L" 2>/dev/null || echo '{}' >"$L"
}

lj() {
	jq -r "$1" "$L"
}

# tlv AREA TYPE FIELD: FIELD of the TLVs of TYPE in the area.
tlv() {
	jq -r "[.$1.tlvs[] | select(.type == $2) | .$3] | join(\",\")" "$L"
}

# bytes FILE OFFSET LENGTH OUT: those bytes, by dd.
bytes() {
	dd if="$1" of="$4" bs=65536 iflag=skip_bytes,count_bytes skip="$2" \
		count="$3" status=none
}

hex_to_file() {
	# shellcheck disable=SC2001,SC2059 # the format is the point
	printf "$(sed 's/../\\x&/g' <<<"$1")" >"$2"
}

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
genkey other -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
genkey rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
genkey rsa3072 -algorithm RSA -pkeyopt rsa_keygen_bits:3072
genkey rsa4096 -algorithm RSA -pkeyopt rsa_keygen_bits:4096
genkey ed -algorithm ed25519

# key_der PUB KIND OUT: the DER MCUboot hashes into KEYHASH, by openssl:
# PKCS#1 RSAPublicKey for RSA, SubjectPublicKeyInfo otherwise.
key_der() {
	if [ "$2" = rsa ]; then
		openssl rsa -pubin -in "$1" -RSAPublicKey_out -outform DER -out "$3" \
			2>/dev/null
	else
		openssl pkey -pubin -in "$1" -outform DER -out "$3"
	fi
}

# ossl_verify KIND PUB HASH SIG
# shellcheck disable=SC2317 # called through check and expect_exit
ossl_verify() {
	case $1 in
	ecdsa)
		openssl pkeyutl -verify -pubin -inkey "$2" -in "$3" -sigfile "$4" ;;
	rsa)
		openssl pkeyutl -verify -pubin -inkey "$2" -in "$3" -sigfile "$4" \
			-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 \
			-pkeyopt digest:sha256 ;;
	ed25519)
		openssl pkeyutl -verify -pubin -inkey "$2" -rawin -in "$3" \
			-sigfile "$4" ;;
	esac
}

# ---------------------------------------------------------------- fixtures

R=$T/rel
mkdir -p "$R/images"
head -c 4096 /dev/urandom >"$R/images/boot.bin"
head -c 70001 /dev/urandom >"$R/images/app.bin"
printf 'sample_rate=100\n' >"$R/images/config.bin"
APP=$R/images/app.bin
APP_SIZE=$(stat -c %s "$APP")
# release FILE VERSION: a release of the three images.
release() {
	cat >"$1" <<EOF
name: acme-sensor-fw
version: $2
hardware: [acme-sensor-rev-b]
security_counter: 7
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
EOF
}
release "$R/release.yaml" 1.2.3
O=$T/out
mkdir -p "$O"

# check_image NAME IMG SOURCE KIND PUB HASH [HDR [PAD [PROT_HEX]]]: IMG is
# SOURCE signed by PUB (KIND ecdsa, rsa or ed25519), with a HASH (sha256 or
# sha384) image hash, a HDR-byte header padded with PAD (ff or 00) and the
# protected TLVs PROT_HEX (default: SEC_CNT 7).
check_image() {
	local name=$1 img=$2 src=$3 kind=$4 pub=$5 hash=$6 hdr=${7:-512}
	local pad=${8:-ff} prot=${9:-5000040007000000} d hlen sigtype hashtype

	d=$(mktemp -d "$T/img.XXXXXX")
	layout "$img"
	LAST_NAME="$name: layout"
	assert_eq "$(od -An -tx1 -N4 "$img" | tr -d ' \n')" 3db8f396 \
		"magic 0x96f3b83d little-endian"
	assert_eq "$(lj .hdr_size)" "$hdr" "hdr_size"
	assert_eq "$(lj .img_size)" "$(stat -c %s "$src")" "img_size = source size"
	assert_eq "$(lj .pad28)" 0 "header pad field"
	assert_eq "$(lj ".header_padding | map(. == $((0x$pad))) | all")" true \
		"header padding all 0x$pad"
	assert_eq "$(lj '.header_padding | length')" \
		"$([ "$hdr" -gt 32 ] && echo 1 || echo 0)" "one padding value"
	bytes "$img" "$hdr" "$(stat -c %s "$src")" "$d/payload"
	cmp -s "$d/payload" "$src"
	_assert $? "$name: payload at $hdr differs from $src"
	# The protected area: [0x6908, total] then the TLVs, as expected.
	assert_eq "$(lj .protect_tlv_size)" $((4 + ${#prot} / 2)) "protect_tlv_size"
	assert_eq "$(lj '.protected.magic')" $((0x6908)) "protected info magic"
	assert_eq "$(lj '.protected.total')" "$(lj .protect_tlv_size)" \
		"protected area length"
	assert_eq "$(od -An -tx1 -j $((hdr + $(lj .img_size) + 4)) \
		-N $((${#prot} / 2)) "$img" | tr -d ' \n')" "$prot" "protected TLVs"
	# The unprotected area: hash, KEYHASH or PUBKEY, signature; to the end.
	hlen=32 hashtype=16
	[ "$hash" = sha384 ] && hlen=48 hashtype=17
	case $kind in
	ecdsa) sigtype=34 ;;
	ed25519) sigtype=36 ;;
	rsa) sigtype=$([ "$(openssl pkey -pubin -in "$pub" -text_pub -noout |
		sed -n 's/.*(\([0-9]*\) bit).*/\1/p')" = 3072 ] && echo 35 || echo 32) ;;
	esac
	assert_eq "$(lj .unprotected.magic)" $((0x6907)) "unprotected info magic"
	assert_eq "$(lj '.unprotected.off + .unprotected.total')" \
		"$(stat -c %s "$img")" "the TLV area ends the file"
	assert_eq "$(lj '.unprotected.end == .unprotected.off + .unprotected.total')" \
		true "TLVs fill the area"
	assert_eq "$(lj '[.unprotected.tlvs[].type] | @csv')" \
		"$hashtype,$([ -n "${PUBKEY_TLV:-}" ] && echo 2 || echo 1),$sigtype" \
		"unprotected TLV order"
	head -c $((hdr + $(lj .img_size) + $(lj .protect_tlv_size))) "$img" |
		openssl dgst "-$hash" -binary >"$d/hash"
	assert_eq "$(tlv unprotected "$hashtype" hex)" \
		"$(od -An -tx1 "$d/hash" | tr -d ' \n')" \
		"hash TLV = $hash of [0, hdr_size + img_size + protect_tlv_size)"
	assert_eq "$(tlv unprotected "$hashtype" len)" "$hlen" "hash TLV length"
	key_der "$pub" "$([ "$kind" = rsa ] && echo rsa || echo pkey)" "$d/key.der"
	if [ -n "${PUBKEY_TLV:-}" ]; then
		assert_eq "$(tlv unprotected 2 hex)" \
			"$(od -An -tx1 -v "$d/key.der" | tr -d ' \n')" "PUBKEY = the DER key"
	else
		assert_eq "$(tlv unprotected 1 hex)" \
			"$(openssl dgst "-$hash" -r "$d/key.der" | cut -d' ' -f1)" \
			"KEYHASH = $hash of the DER key"
	fi
	hex_to_file "$(tlv unprotected "$sigtype" hex)" "$d/sig"
	case $kind in
	ed25519) assert_eq "$(stat -c %s "$d/sig")" 64 "Ed25519 signature length" ;;
	rsa) assert_eq "$(stat -c %s "$d/sig")" \
		"$([ "$sigtype" = 35 ] && echo 384 || echo 256)" "RSA signature length" ;;
	esac
	check "$name: openssl verifies the signature over the image hash" \
		ossl_verify "$kind" "$pub" "$d/hash" "$d/sig"
	assert_contains "$OUT" "Signature Verified Successfully"
	flip_byte "$d/hash" 3
	expect_exit 1 "$name: openssl rejects it over another hash" \
		ossl_verify "$kind" "$pub" "$d/hash" "$d/sig"
	check "$name: otatool verify" otatool verify --trust-key "$pub" "$img"
	assert_contains "$OUT" "$img: MCUboot image"
	assert_contains "$OUT" "verdict: VALID"
	assert_not_contains "$OUT" "FAIL"
}

# ---------------------------------------------------------------- key types

# NAME KEY KIND HASH
for spec in "p256 ecdsa sha256" "p384 ecdsa sha384" "rsa2048 rsa sha256" \
	"rsa3072 rsa sha256" "ed ed25519 sha256"; do
	read -r k kind hash <<<"$spec"
	check "$k: package --format mcuboot" \
		otatool package --format mcuboot --key "$K/$k.pem" -o "$O/$k.bin" \
		"$R/release.yaml"
	assert_contains "$ERR" "wrote $O/$k.bin (MCUboot"
	check_image "$k" "$O/$k.bin" "$APP" "$kind" "$K/$k.pub.pem" "$hash"
	LAST_NAME="$k: header fields"
	assert_eq "$(lj .load_addr)" $((0x08020000)) "load_addr from the manifest"
	assert_eq "$(lj .flags)" $((0x20)) "flags RAM_LOAD"
	assert_eq "$(od -An -tx1 -j20 -N8 "$O/$k.bin" | tr -d ' \n')" \
		0102030000000000 "version 1.2.3 as 01 02 0300 00000000"
done

check "inspect --json" otatool inspect --json "$O/p256.bin"
layout "$O/p256.bin"
assert_json "$OUT" '[.load_address, .header_size, .protect_tlv_size, .image_size, .flags]' \
	"[$((0x08020000)),512,12,$APP_SIZE,32]"
assert_json "$OUT" '.flag_names' '["RAM_LOAD"]'
assert_json "$OUT" '.version' '{"text":"1.2.3+0","major":1,"minor":2,"revision":3,"build":0}'
assert_json "$OUT" '.security_counter' '7'
assert_json "$OUT" '.hash_alg' '"sha256"'
assert_json "$OUT" '.hash' "$(q "$(tlv unprotected 16 hex)")"
assert_json "$OUT" '.hash_ok' 'true'
assert_json "$OUT" '.key_tlv' '"KEYHASH"'
assert_json "$OUT" '.keyhash' "$(q "$(tlv unprotected 1 hex)")"
assert_json "$OUT" '.signature_type_name' '"ECDSA_SIG"'
assert_json "$OUT" '.file_size' "$(stat -c %s "$O/p256.bin")"
check "inspect (human)" otatool inspect "$O/p256.bin"
assert_matches "$OUT" "^$O/p256.bin: MCUboot image"
assert_contains "$OUT" "$APP_SIZE"
assert_contains "$OUT" "$(tlv unprotected 16 hex)"
assert_contains "$OUT" "$(tlv unprotected 1 hex)"
assert_matches "$OUT" 'structure.*valid'
check "inspect P-384: SHA-384" otatool inspect --json "$O/p384.bin"
assert_json "$OUT" '[.hash_alg, (.keyhash | length)]' '["sha384",96]'

check "verify --json" otatool verify --json --trust-key "$K/p256.pub.pem" "$O/p256.bin"
assert_json "$OUT" '.verdict' '"valid"'
assert_json "$OUT" '[.checks[].check]' '["structure","image hash","KEYHASH","signature"]'
assert_json "$OUT" '[.checks[].result] | unique' '["ok"]'
assert_json "$OUT" '.trusted_key' '0'
check "verify: one of several trusted keys" \
	otatool verify --json --trust-key "$K/other.pub.pem" \
	--trust-key "$K/ed.pub.pem" --trust-key "$K/p256.pub.pem" "$O/p256.bin"
assert_json "$OUT" '.trusted_key' '2'

# ---------------------------------------------------------------- options

check "--header-size 0x400" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --header-size 0x400 \
	-o "$O/h400.bin" "$R/release.yaml"
check_image "--header-size 0x400" "$O/h400.bin" "$APP" ecdsa "$K/p256.pub.pem" \
	sha256 1024

check "--header-size 32 (no padding)" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --header-size 32 \
	-o "$O/h32.bin" "$R/release.yaml"
check_image "--header-size 32" "$O/h32.bin" "$APP" ecdsa "$K/p256.pub.pem" sha256 32

check "--erased-value 0" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --erased-value 0 \
	-o "$O/e0.bin" "$R/release.yaml"
check_image "--erased-value 0" "$O/e0.bin" "$APP" ecdsa "$K/p256.pub.pem" \
	sha256 512 00
check "--erased-value 0xff" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --erased-value 0xff \
	-o "$O/eff.bin" "$R/release.yaml"
layout "$O/eff.bin"
assert_eq "$(lj '.header_padding | @csv')" 255 "--erased-value 0xff pads with 0xff"

check "--rom-fixed" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --rom-fixed \
	-o "$O/rom.bin" "$R/release.yaml"
check_image "--rom-fixed" "$O/rom.bin" "$APP" ecdsa "$K/p256.pub.pem" sha256
assert_eq "$(lj .flags)" $((0x100)) "flags ROM_FIXED"
assert_eq "$(lj .load_addr)" $((0x08020000)) "load_addr"

check "--image mcuboot" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --image mcuboot \
	-o "$O/boot.bin" "$R/release.yaml"
check_image "--image mcuboot" "$O/boot.bin" "$R/images/boot.bin" ecdsa \
	"$K/p256.pub.pem" sha256
assert_eq "$(lj .load_addr)" $((0x08000000)) "load_addr of mcuboot"

check "an image without a load address" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --image settings \
	-o "$O/cfg.bin" "$R/release.yaml"
check_image "no load address" "$O/cfg.bin" "$R/images/config.bin" ecdsa \
	"$K/p256.pub.pem" sha256
assert_eq "$(lj '[.load_addr, .flags] | @csv')" "0,0" "no RAM_LOAD, address 0"
expect_exit 3 "--rom-fixed without a load address" \
	otatool package --format mcuboot --key "$K/p256.pem" --image settings \
	--rom-fixed -o "$O/romcfg.bin" "$R/release.yaml"
assert_contains "$ERR" "load address"
assert_not_exists "$O/romcfg.bin"

check "--build-number 42" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --build-number 42 \
	-o "$O/b42.bin" "$R/release.yaml"
check_image "--build-number 42" "$O/b42.bin" "$APP" ecdsa "$K/p256.pub.pem" sha256
assert_eq "$(od -An -tx1 -j20 -N8 "$O/b42.bin" | tr -d ' \n')" \
	010203002a000000 "version 1.2.3 build 42"

release "$R/meta.yaml" 3.0.65535+4294967295
check "build number from the version's metadata, largest fields" \
	otatool package -q --format mcuboot --key "$K/p256.pem" \
	-o "$O/meta.bin" "$R/meta.yaml"
assert_eq "$(od -An -tx1 -j20 -N8 "$O/meta.bin" | tr -d ' \n')" \
	0300ffffffffffff "version 3.0.65535 build 4294967295"
release "$R/v255.yaml" 255.255.0
check "version 255.255.0" \
	otatool package -q --format mcuboot --key "$K/p256.pem" \
	-o "$O/v255.bin" "$R/v255.yaml"
assert_eq "$(od -An -tx1 -j20 -N8 "$O/v255.bin" | tr -d ' \n')" \
	ffff000000000000 "version 255.255.0"

PUBKEY_TLV=1
check "--public-key-tlv" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --public-key-tlv \
	-o "$O/pubkey.bin" "$R/release.yaml"
check_image "--public-key-tlv" "$O/pubkey.bin" "$APP" ecdsa "$K/p256.pub.pem" sha256
check "--public-key-tlv, RSA-2048" \
	otatool package -q --format mcuboot --key "$K/rsa2048.pem" --public-key-tlv \
	-o "$O/pubkey-rsa.bin" "$R/release.yaml"
check_image "--public-key-tlv RSA" "$O/pubkey-rsa.bin" "$APP" rsa \
	"$K/rsa2048.pub.pem" sha256
unset PUBKEY_TLV
expect_exit 5 "--public-key-tlv: another trusted key" \
	otatool verify --trust-key "$K/other.pub.pem" "$O/pubkey.bin"
assert_contains "$ERR" "PUBKEY"

check "--mcuboot-dependency" \
	otatool package -q --format mcuboot --key "$K/p256.pem" \
	--mcuboot-dependency 1:2.3.4 --mcuboot-dependency 0:1.0.0+9 \
	-o "$O/deps.bin" "$R/release.yaml"
# SEC_CNT 7, then DEPENDENCY (0x40, 12): id, 3 pad bytes, u8 u8 u16 u32.
check_image "--mcuboot-dependency" "$O/deps.bin" "$APP" ecdsa "$K/p256.pub.pem" \
	sha256 512 ff \
	500004000700000040000c0001000000020304000000000040000c000000000001000000""09000000
check "inspect: dependencies" otatool inspect --json "$O/deps.bin"
assert_json "$OUT" '[.dependencies[] | [.image_id, .min_version.text]]' \
	'[[1,"2.3.4+0"],[0,"1.0.0+9"]]'

check "--slot-size that fits" \
	otatool package -q --format mcuboot --key "$K/p256.pem" --slot-size 0x20000 \
	--write-align 32 -o "$O/slot.bin" "$R/release.yaml"
check_image "--slot-size" "$O/slot.bin" "$APP" ecdsa "$K/p256.pub.pem" sha256

# A security counter the manifest does not set is 0, and stated as such.
cat >"$R/nocounter.yaml" <<EOF
name: one
version: 0.0.1
hardware: [x]
images:
  - name: only
    kind: config
    file: images/config.bin
git:
  commit: $FAKE_COMMIT
EOF
check "the only image of a manifest, no --image, no counter" \
	otatool package -q --format mcuboot --key "$K/ed.pem" -o "$O/one.bin" \
	"$R/nocounter.yaml"
check_image "only image" "$O/one.bin" "$R/images/config.bin" ed25519 \
	"$K/ed.pub.pem" sha256 512 ff 5000040000000000
assert_eq "$(od -An -tx1 -j20 -N8 "$O/one.bin" | tr -d ' \n')" \
	0000010000000000 "version 0.0.1"

# Two-step: a signed manifest's image digests must still hold.
M=$T/manifest
mkdir -p "$M"
cp -r "$R/images" "$R/release.yaml" "$M/"
check "manifest" otatool manifest -q -o "$M/m.json" "$M/release.yaml"
check "sign the manifest" otatool sign -q --key "$K/p256.pem" "$M/m.json"
check "from a signed manifest" \
	otatool package -q --format mcuboot --key "$K/p256.pem" \
	-o "$O/signed.bin" "$M/m.signed.json"
check_image "signed manifest" "$O/signed.bin" "$M/images/app.bin" ecdsa \
	"$K/p256.pub.pem" sha256
expect_exit 5 "signed manifest by an untrusted key: refused" \
	otatool package --format mcuboot --key "$K/ed.pem" -o "$O/untrusted.bin" \
	"$M/m.signed.json"
assert_not_exists "$O/untrusted.bin"
printf 'X' | dd of="$M/images/app.bin" bs=1 seek=100 conv=notrunc status=none
expect_exit 5 "image changed after the signed manifest was made" \
	otatool package --format mcuboot --key "$K/p256.pem" -o "$O/changed.bin" \
	"$M/m.signed.json"
assert_contains "$ERR" "app"
assert_not_exists "$O/changed.bin"
assert_no_temp "$O" changed.bin

# ---------------------------------------------------------------- refusals

# refused CODE NAME RELEASE OPTIONS...: exit CODE, no output, no temp.
refused() {
	local code=$1 name=$2 rel=$3

	shift 3
	expect_exit "$code" "$name" \
		otatool package --format mcuboot "$@" -o "$O/refused.bin" "$rel"
	assert_not_exists "$O/refused.bin"
	assert_no_temp "$O" refused.bin
	rm -f "$O/refused.bin"
}

release "$R/v256.yaml" 256.0.0
refused 3 "version 256.0.0" "$R/v256.yaml" --key "$K/p256.pem"
assert_contains "$ERR" "256"
assert_contains "$ERR" "major"
assert_contains "$ERR" "0..255"
check "a manifest with version 256.0.0" \
	otatool manifest -q -o "$R/v256.json" "$R/v256.yaml"
refused 3 "version 256.0.0 (manifest)" "$R/v256.json" --key "$K/p256.pem"
assert_contains "$ERR" "256"
assert_contains "$ERR" "major"
release "$R/v1256.yaml" 1.256.0
refused 3 "version 1.256.0" "$R/v1256.yaml" --key "$K/p256.pem"
assert_contains "$ERR" "minor"
release "$R/v65536.yaml" 1.2.65536
refused 3 "version 1.2.65536" "$R/v65536.yaml" --key "$K/p256.pem"
assert_contains "$ERR" "65535"
release "$R/pre.yaml" 1.2.3-rc.1
refused 3 "pre-release version" "$R/pre.yaml" --key "$K/p256.pem"
assert_contains "$ERR" "pre-release"
refused 3 "--build-number with a pre-release still refused" "$R/pre.yaml" \
	--key "$K/p256.pem" --build-number 1

refused 7 "RSA-4096 key" "$R/release.yaml" --key "$K/rsa4096.pem"
assert_contains "$ERR" "RSA-4096"
refused 7 "--rsa-padding pkcs1" "$R/release.yaml" --key "$K/rsa2048.pem" \
	--rsa-padding pkcs1
assert_contains "$ERR" "PSS"
refused 2 "two keys" "$R/release.yaml" --key "$K/p256.pem" --key "$K/ed.pem"
assert_contains "$ERR" "one --key"
refused 2 "no key" "$R/release.yaml"
sed 's/kind: application/kind: config/' "$R/release.yaml" >"$R/noapp.yaml"
refused 2 "several images, no --image, no application" "$R/noapp.yaml" \
	--key "$K/p256.pem"
assert_contains "$ERR" "--image"
refused 2 "--image of no image" "$R/release.yaml" --key "$K/p256.pem" \
	--image nope
assert_contains "$ERR" "nope"

refused 3 "slot too small" "$R/release.yaml" --key "$K/p256.pem" \
	--slot-size "$APP_SIZE"
assert_contains "$ERR" "slot"
refused 3 "slot too small for the trailer" "$R/release.yaml" --key "$K/p256.pem" \
	--slot-size $((APP_SIZE + 1024))

# Bad option values are a bad command line (exit 2), as --erased-value
# and --alignment below 16 already are.
refused 2 "--erased-value 0x7f" "$R/release.yaml" --key "$K/p256.pem" \
	--erased-value 0x7f
refused 2 "--header-size 16" "$R/release.yaml" --key "$K/p256.pem" \
	--header-size 16
assert_contains "$ERR" "32"
refused 2 "--header-size 0" "$R/release.yaml" --key "$K/p256.pem" \
	--header-size 0
refused 2 "--header-size 0x10000" "$R/release.yaml" --key "$K/p256.pem" \
	--header-size 0x10000
refused 2 "--write-align 3" "$R/release.yaml" --key "$K/p256.pem" \
	--write-align 3
refused 2 "--write-align 64" "$R/release.yaml" --key "$K/p256.pem" \
	--write-align 64
refused 2 "--mcuboot-dependency without a version" "$R/release.yaml" \
	--key "$K/p256.pem" --mcuboot-dependency 1
refused 2 "--mcuboot-dependency with image id 256" "$R/release.yaml" \
	--key "$K/p256.pem" --mcuboot-dependency 256:1.0.0
assert_eq "$(grep -o -- '--mcuboot-dependency' "$ERR" | wc -l)" 1 \
	"the option is named once"
refused 2 "--mcuboot-dependency with version 256.0.0" "$R/release.yaml" \
	--key "$K/p256.pem" --mcuboot-dependency 1:256.0.0
refused 2 "--format other" "$R/release.yaml" --key "$K/p256.pem" \
	--format other

cp "$APP" "$T/app.save"
: >"$APP"
refused 3 "empty image" "$R/release.yaml" --key "$K/p256.pem"
rm -f "$APP"
refused 3 "missing image" "$R/release.yaml" --key "$K/p256.pem"
cp "$T/app.save" "$APP"
expect_exit 4 "output into a missing directory" \
	otatool package --format mcuboot --key "$K/p256.pem" -o "$O/nodir/x.bin" \
	"$R/release.yaml"
assert_not_exists "$O/nodir"

# ---------------------------------------------------------------- verify

V=$T/verify
mkdir -p "$V"
GOOD=$O/p256.bin
layout "$GOOD"
HDR=$(lj .hdr_size)
PROT_END=$((HDR + $(lj .img_size) + $(lj .protect_tlv_size)))
HASH_AT=$(jq '.unprotected.tlvs[0].off' "$L")
SIG_AT=$(jq '.unprotected.tlvs[2].off' "$L")
SIG_LEN=$(jq '.unprotected.tlvs[2].len' "$L")

# tamper NAME OFFSET: GOOD with the byte at OFFSET inverted must be refused.
tamper() {
	local name=$1 off=$2

	cp "$GOOD" "$V/t.bin"
	python3 -c 'import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[o] ^= 0xff; open(p, "wb").write(b)' \
		"$V/t.bin" "$off"
	expect_exit 5 "$name" otatool verify --trust-key "$K/p256.pub.pem" "$V/t.bin"
	assert_contains "$OUT" "verdict: REFUSED"
	assert_matches "$ERR" "offset [0-9]+"
}
tamper "tampered payload byte" $((HDR + 1000))
assert_matches "$OUT" '^\[ FAIL \] image hash '
tamper "tampered last payload byte" $((HDR + APP_SIZE - 1))
tamper "tampered header padding" 100
tamper "tampered version" 21
tamper "tampered load address" 6
tamper "tampered security counter" $((PROT_END - 1))
tamper "tampered hash TLV" $((HASH_AT + 4 + 7))
tamper "tampered KEYHASH" $((HASH_AT + 4 + 32 + 4 + 3))
tamper "tampered signature" $((SIG_AT + 4 + SIG_LEN - 1))
assert_matches "$OUT" '^\[ FAIL \] signature '
tamper "tampered signature (r)" $((SIG_AT + 4 + 10))

expect_exit 5 "KEYHASH of another key" \
	otatool verify --trust-key "$K/other.pub.pem" "$GOOD"
assert_matches "$OUT" '^\[ FAIL \] KEYHASH +matches no trusted key'
assert_contains "$ERR" "KEYHASH"
expect_exit 5 "an Ed25519 key trusted for a P-256 image" \
	otatool verify --trust-key "$K/ed.pub.pem" "$GOOD"
expect_exit 5 "a P-384 key trusted for a P-256 image" \
	otatool verify --trust-key "$K/p384.pub.pem" "$GOOD"
expect_exit 5 "P-384 image, P-256 key trusted" \
	otatool verify --trust-key "$K/p256.pub.pem" "$O/p384.bin"

# The image's KEYHASH names the right key, but another signed it: a forged
# signature TLV (another key's signature over the same hash) is refused.
cp "$GOOD" "$V/forged.bin"
otatool package -q --format mcuboot --key "$K/other.pem" -o "$V/other.bin" \
	"$R/release.yaml" || die "package with other.pem"
python3 - "$V/forged.bin" "$V/other.bin" <<'EOF'
import struct, sys
def sig(b):
    hs, ps, isz = struct.unpack_from('<HHI', b, 8)
    off = hs + isz + ps
    pos, end = off + 4, off + struct.unpack_from('<H', b, off + 2)[0]
    while pos < end:
        t, l = struct.unpack_from('<HH', b, pos)
        if t == 0x22:
            return pos, b[pos:pos + 4 + l]
        pos += 4 + l
good = bytearray(open(sys.argv[1], 'rb').read())
other = open(sys.argv[2], 'rb').read()
at, mine = sig(good)
_, theirs = sig(other)
# Same hash (same bytes hashed): only the signature TLV differs.
new = good[:at] + theirs
hs, ps, isz = struct.unpack_from('<HHI', new, 8)
struct.pack_into('<H', new, hs + isz + ps + 2, len(new) - (hs + isz + ps))
open(sys.argv[1], 'wb').write(new)
EOF
expect_exit 5 "another key's signature under the right KEYHASH" \
	otatool verify --trust-key "$K/p256.pub.pem" "$V/forged.bin"
assert_matches "$OUT" '^\[ FAIL \] signature '
check "... which that other key's image itself passes" \
	otatool verify -q --trust-key "$K/other.pub.pem" "$V/other.bin"

check "--counter equal to the image's" \
	otatool verify --trust-key "$K/p256.pub.pem" --counter 7 "$GOOD"
assert_matches "$OUT" '^\[  ok  \] security counter +release counter 7 >= device counter 7'
expect_exit 10 "--counter above the image's" \
	otatool verify --trust-key "$K/p256.pub.pem" --counter 8 "$GOOD"
assert_matches "$OUT" '^\[ FAIL \] security counter '
assert_contains "$ERR" "security counter 7"
expect_exit 10 "verify --json: rollback" \
	otatool verify --json --trust-key "$K/p256.pub.pem" --counter 4294967295 "$GOOD"
assert_json "$OUT" '[.verdict, .exit_status]' '["refused",10]'
expect_exit 10 "--counter above an image without a counter" \
	otatool verify -q --trust-key "$K/ed.pub.pem" --counter 1 "$O/one.bin"
check "--counter 0 on an image with counter 0" \
	otatool verify -q --trust-key "$K/ed.pub.pem" --counter 0 "$O/one.bin"
expect_exit 5 "a signature failure wins over the counter" \
	otatool verify -q --trust-key "$K/other.pub.pem" --counter 99 "$GOOD"
expect_exit 2 "--hardware does not apply to MCUboot images" \
	otatool verify --trust-key "$K/p256.pub.pem" --hardware x "$GOOD"
expect_exit 2 "verify without --trust-key" otatool verify "$GOOD"

# protect_tlv_size (header offset 10) that does not match the real area.
for v in 0 4 8 16 0xFFFF; do
	python3 "$PY" patch "$GOOD" "$V/p.bin" 10 H "$v"
	expect_exit 5 "protect_tlv_size patched to $v" \
		otatool verify --trust-key "$K/p256.pub.pem" "$V/p.bin"
	assert_matches "$ERR" "offset [0-9]+"
	assert_contains "$ERR" "protect"
	expect_exit 5 "protect_tlv_size patched to $v (inspect)" \
		otatool inspect "$V/p.bin"
done
for spec in "8 H 0" "8 H 31" "8 H 0xFFFF" "12 I 0" "12 I 0xFFFFFFFF" \
	"12 I $((APP_SIZE + 1))" "16 I 4" "16 I 8"; do
	read -r off fmt v <<<"$spec"
	python3 "$PY" patch "$GOOD" "$V/p.bin" "$off" "$fmt" "$v"
	expect_exit 5 "header field at $off patched to $v" \
		otatool verify --trust-key "$K/p256.pub.pem" "$V/p.bin"
	assert_matches "$ERR" "offset [0-9]+"
done

cp "$GOOD" "$V/app1.bin"
printf '\x42' >>"$V/app1.bin"
expect_exit 5 "one appended byte" otatool verify --trust-key "$K/p256.pub.pem" "$V/app1.bin"
assert_contains "$ERR" "offset"

# imgtool --pad-sig: the ECDSA signature zero-padded to a 72-byte TLV
# (MCUboot reads the DER and ignores the padding); PAD is the pad byte.
pad_sig() {
	python3 - "$GOOD" "$1" "$2" <<'PYEOF'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
u16 = lambda o: struct.unpack_from('<H', b, o)[0]
u32 = lambda o: struct.unpack_from('<I', b, o)[0]
p = u16(8) + u32(12) + u16(10)
pos, end = p + 4, p + u16(p + 2)
while pos < end and u16(pos) != 0x22:
    pos += 4 + u16(pos + 2)
n = u16(pos + 2)
want = 72 if n < 72 else 74
struct.pack_into('<H', b, pos + 2, want)
b[pos + 4 + n:pos + 4 + n] = bytes([int(sys.argv[3], 0)]) * (want - n)
struct.pack_into('<H', b, p + 2, u16(p + 2) + want - n)
open(sys.argv[2], 'wb').write(b)
PYEOF
}
pad_sig "$V/padsig.bin" 0
check "an imgtool --pad-sig signature verifies" \
	otatool verify --json --trust-key "$K/p256.pub.pem" "$V/padsig.bin"
assert_matches "$OUT" '"signature_padding": [1-9]'
pad_sig "$V/padsig1.bin" 0x01
expect_exit 5 "a signature padded with other bytes than 0 is refused" \
	otatool verify --trust-key "$K/p256.pub.pem" "$V/padsig1.bin"
assert_contains "$ERR" "only zero padding (imgtool --pad-sig)"

# ---------------------------------------------------------------- robustness

S=$T/small
mkdir -p "$S"
printf 'hello' >"$S/y.bin"
cat >"$S/release.yaml" <<EOF
name: s
version: 1.0.0
hardware: [h]
security_counter: 3
images:
  - name: y
    kind: application
    file: y.bin
git:
  commit: $FAKE_COMMIT
EOF
check "small image" \
	otatool package -q --format mcuboot --header-size 32 --key "$K/p256.pem" \
	-o "$S/m.bin" "$S/release.yaml"
check_image "small image" "$S/m.bin" "$S/y.bin" ecdsa "$K/p256.pub.pem" sha256 32 \
	ff 5000040003000000
SIZE=$(stat -c %s "$S/m.bin")
VERIFY=(otatool verify -q --trust-key "$K/p256.pub.pem")

assert_mutations_refused trunc "$S/m.bin" 32 "$SIZE" \
	"every truncation of a small image is refused" "${VERIFY[@]}"
if [ "$SANITIZED" = 0 ] || [ "${OTATOOL_TEST_FULL_WALK:-0}" = 1 ]; then
	assert_mutations_refused flip "$S/m.bin" 32 $((SIZE * 8)) \
		"every single-bit flip of a small image is refused" "${VERIFY[@]}"
else
	assert_mutations_refused flip-sparse "$S/m.bin" 32 $((SIZE + 32 * 7)) \
		"a bit flip in every byte is refused (sanitized build)" \
		"${VERIFY[@]}"
fi

# ---------------------------------------------------------------- SoftHSM

if [ -f "$SOFTHSM_MODULE" ]; then
	H=$T/softhsm
	make_token "$H" release
	URI='pkcs11:token=release;object=mcuboot-signing'
	check "token: generate a P-256 key" \
		otatool keys generate -q --type ecdsa-p256 --key "$URI"
	check "token: export the public key" \
		otatool keys export-public "$URI" -o "$H/pub.pem"
	check "token: MCUboot image signed inside the token" \
		otatool package -q --format mcuboot --key "$URI" --slot-size 0x20000 \
		-o "$O/token.bin" "$R/release.yaml"
	check_image "token" "$O/token.bin" "$APP" ecdsa "$H/pub.pem" sha256
	check "token: --public-key-tlv" \
		otatool package -q --format mcuboot --key "$URI" \
		--public-key-tlv -o "$O/token-pub.bin" "$R/release.yaml"
	PUBKEY_TLV=1 check_image "token, PUBKEY" "$O/token-pub.bin" "$APP" ecdsa \
		"$H/pub.pem" sha256
	expect_exit 5 "token: not with another key" \
		otatool verify -q --trust-key "$K/p256.pub.pem" "$O/token.bin"
else
	skip "SoftHSM tests" "$SOFTHSM_MODULE is missing"
fi

finish
