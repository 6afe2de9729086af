# End-to-end tests of the MCUboot parity options of `otatool package
# --format mcuboot` (otatool-mcuboot(5): RESERVED HEADER, IMAGE TRAILER,
# INTEL HEX): the header placed into a Zephyr-style reserved area or
# prepended, the slot padded with the trailer (--pad, --confirm, --test,
# --overwrite-only, --max-align, --max-sectors) and the slot-size check per
# mode, Intel HEX in and out. Every image is read back by an independent
# python3 reader of the layout (below), HEX through binutils' objcopy and
# objdump, and each signed image is verified by otatool against its key.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl python3 objcopy objdump cmp

FAKE_COMMIT=0123456789abcdef0123456789abcdef01234567

# ---------------------------------------------------------------- helpers

# Reads an image as MCUboot does, judging nothing: the header's fields,
# where the TLVs end, the SHA-256 over header + payload + protected TLVs
# and the hash TLV, then the bytes after the TLVs: the last 16 (the boot
# magic), the byte at each image_ok position and the set of other values.
PY=$T/parity.py
cat >"$PY" <<'EOF'
import hashlib, json, struct, sys

b = open(sys.argv[1], 'rb').read()
u16 = lambda o: struct.unpack_from('<H', b, o)[0]
u32 = lambda o: struct.unpack_from('<I', b, o)[0]
hs, ps, isz = u16(8), u16(10), u32(12)
end = hs + isz + ps
hashed = hashlib.sha256(b[:end]).hexdigest()
assert u16(end) == 0x6907
tlv_end = end + u16(end + 2)
tlvs, pos = {}, end + 4
while pos < tlv_end:
    t, l = u16(pos), u16(pos + 2)
    tlvs[t] = b[pos + 4:pos + 4 + l].hex()
    pos += 4 + l
tail = b[tlv_end:]
ok = {str(ma): (b[len(b) - 16 - (ma - 16 if ma > 16 else 0) - ma]
                if len(tail) >= 16 + 2 * ma else None) for ma in (8, 16, 32)}
print(json.dumps({
    'size': len(b), 'magic': u32(0), 'hdr_size': hs, 'img_size': isz,
    'header_padding': sorted(set(b[32:hs])), 'hash_ok': tlvs.get(0x10) == hashed,
    'tlv_end': tlv_end, 'trailing': len(tail),
    'boot_magic': tail[-16:].hex() if len(tail) >= 16 else '',
    'image_ok': ok, 'tail_values': sorted(set(tail[:-16])) if tail else []}))
EOF

L=$T/layout.json
layout() {
	python3 "$PY" "$1" >"$L" 2>"$T/layout.err" || echo '{}' >"$L"
}

lj() {
	jq -r "$1" "$L"
}

# The boot magic from MCUboot's docs/design.md, and its max_align variant
# (a u16 max_align, then 14 fixed bytes), written out here.
MAGIC8=77c295f360d2ef7f3552500f2cb67980
magic_for() { printf '%02x00%s' "$1" 2de15d29410b8d77679c110f1f8a; }

K=$T/keys
mkdir -p "$K"
openssl genpkey -algorithm ed25519 -out "$K/ed.pem" 2>/dev/null ||
	die "openssl genpkey ed25519"
openssl pkey -in "$K/ed.pem" -pubout -out "$K/ed.pub.pem" || die "openssl pkey"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$K/p256.pem" 2>/dev/null || die "openssl genpkey p256"
openssl pkey -in "$K/p256.pem" -pubout -out "$K/p256.pub.pem" ||
	die "openssl pkey"

# ---------------------------------------------------------------- fixtures

R=$T/rel
mkdir -p "$R/images"
# A Zephyr-style binary: 0x200 zero bytes reserved for the header.
{
	head -c 512 /dev/zero
	head -c 5000 /dev/urandom
} >"$R/images/zephyr.bin"
head -c 6000 /dev/urandom >"$R/images/plain.bin"

release() { # FILE IMAGE
	cat >"$1" <<EOF
name: parity-fw
version: 1.2.3
hardware: [rev-b]
security_counter: 7
images:
  - name: app
    kind: application
    file: images/$2
git:
  commit: $FAKE_COMMIT
EOF
}
release "$R/zephyr.yaml" zephyr.bin
release "$R/plain.yaml" plain.bin
O=$T/out
mkdir -p "$O"

pkg() { # OUT RELEASE [OPTIONS...]
	local out=$1 rel=$2

	shift 2
	"$OTATOOL" package --format mcuboot --key "$K/ed.pem" "$@" -o "$out" "$rel"
}

valid() { # IMAGE
	check "verify $(basename "$1")" "$OTATOOL" verify \
		--trust-key "$K/ed.pub.pem" "$1"
	assert_contains "$OUT" "VALID"
}

# ---------------------------------------------------------------- header

check "reserved header used" pkg "$O/res.bin" "$R/zephyr.yaml"
assert_contains "$ERR" "header: into the image's reserved 512 zero bytes"
layout "$O/res.bin"
assert_eq "$(lj .img_size)" 5000 "img_size: the input less the reserved area"
assert_eq "$(lj .hdr_size)" 512 "hdr_size"
assert_eq "$(jq -c .header_padding "$L")" "[0]" "header padding: the input's zeros"
assert_eq "$(lj .hash_ok)" true "hash TLV over the image as written"
assert_eq "$(lj .trailing)" 0 "nothing after the TLVs"
cmp -s <(tail -c +513 "$R/images/zephyr.bin") \
	<(head -c 5512 "$O/res.bin" | tail -c +513)
_assert $? "the payload is the input from offset 0x200 on, in place"
valid "$O/res.bin"

check "--pad-header prepends" pkg "$O/pre.bin" "$R/zephyr.yaml" --pad-header
assert_contains "$ERR" "header: 512 bytes prepended"
layout "$O/pre.bin"
assert_eq "$(lj .img_size)" 5512 "img_size: the whole input"
assert_eq "$(jq -c .header_padding "$L")" "[255]" "header padding: erased"
cmp -s "$R/images/zephyr.bin" <(head -c 6024 "$O/pre.bin" | tail -c +513)
_assert $? "the whole input after the header"
valid "$O/pre.bin"

check "no reserved area: prepended" pkg "$O/plain.bin" "$R/plain.yaml"
assert_contains "$ERR" "header: 512 bytes prepended"
layout "$O/plain.bin"
assert_eq "$(lj .img_size)" 6000 "img_size of a plain binary"

expect_exit 3 "--no-pad-header refuses non-zero bytes" \
	pkg "$O/nopad.bin" "$R/plain.yaml" --no-pad-header
assert_contains "$ERR" "offset 0: byte 0x"
assert_contains "$ERR" "the first 512 bytes are not all zero"
assert_not_exists "$O/nopad.bin"
check "--no-pad-header on a reserved area" \
	pkg "$O/nopad.bin" "$R/zephyr.yaml" --no-pad-header
assert_same_file "$O/nopad.bin" "$O/res.bin"
expect_exit 2 "--pad-header with --no-pad-header" \
	pkg "$O/x.bin" "$R/zephyr.yaml" --pad-header --no-pad-header

# ---------------------------------------------------------------- trailer

SLOT=0x4000
# padded OUT MAX_ALIGN IMAGE_OK TAIL_VALUES: the image fills the slot, ends
# with the magic for MAX_ALIGN, image_ok reads IMAGE_OK, and every other
# byte after the TLVs is one of TAIL_VALUES (a JSON list).
padded() {
	layout "$1"
	assert_eq "$(lj .size)" 16384 "$(basename "$1"): the slot size"
	if [ "$2" = 8 ]; then
		assert_eq "$(lj .boot_magic)" "$MAGIC8" "$(basename "$1"): magic"
	else
		assert_eq "$(lj .boot_magic)" "$(magic_for "$2")" \
			"$(basename "$1"): magic for max-align $2"
	fi
	assert_eq "$(lj ".image_ok[\"$2\"]")" "$3" "$(basename "$1"): image_ok"
	assert_eq "$(jq -c .tail_values "$L")" "$4" "$(basename "$1"): the fill"
	valid "$1"
}

check "--pad" pkg "$O/pad.bin" "$R/zephyr.yaml" --slot-size $SLOT --pad
assert_contains "$ERR" "padded to the 16384-byte slot, boot magic (a test upgrade"
padded "$O/pad.bin" 8 255 "[255]"
check "--test" pkg "$O/test.bin" "$R/zephyr.yaml" --slot-size $SLOT --test
assert_same_file "$O/test.bin" "$O/pad.bin"
check "--confirm" pkg "$O/conf.bin" "$R/zephyr.yaml" --slot-size $SLOT --confirm
assert_contains "$ERR" "image_ok set (a permanent upgrade"
padded "$O/conf.bin" 8 1 "[1,255]"
check "--confirm --max-align 16" pkg "$O/conf16.bin" "$R/zephyr.yaml" \
	--slot-size $SLOT --confirm --max-align 16
padded "$O/conf16.bin" 16 1 "[1,255]"
check "--confirm --max-align 32" pkg "$O/conf32.bin" "$R/zephyr.yaml" \
	--slot-size $SLOT --confirm --max-align 32
padded "$O/conf32.bin" 32 1 "[1,255]"
check "--write-align 16: max-align follows" pkg "$O/wa16.bin" \
	"$R/zephyr.yaml" --slot-size $SLOT --confirm --write-align 16
padded "$O/wa16.bin" 16 1 "[1,255]"
check "--confirm --overwrite-only: no image_ok, as imgtool" \
	pkg "$O/ow.bin" "$R/zephyr.yaml" --slot-size $SLOT --confirm \
	--overwrite-only
padded "$O/ow.bin" 8 255 "[255]"
check "--pad --erased-value 0" pkg "$O/pad0.bin" "$R/zephyr.yaml" \
	--slot-size $SLOT --confirm --erased-value 0
padded "$O/pad0.bin" 8 1 "[0,1]"

expect_exit 2 "--pad without --slot-size" pkg "$O/x.bin" "$R/zephyr.yaml" --pad
assert_contains "$ERR" "needs the slot size"
expect_exit 2 "--max-align 64" pkg "$O/x.bin" "$R/zephyr.yaml" --max-align 64
expect_exit 2 "--max-align below --write-align" pkg "$O/x.bin" \
	"$R/zephyr.yaml" --max-align 8 --write-align 16
expect_exit 2 "--confirm with --test" pkg "$O/x.bin" "$R/zephyr.yaml" \
	--slot-size $SLOT --confirm --test
expect_exit 2 "--pad with --format otatool" "$OTATOOL" package \
	--key "$K/ed.pem" --pad -o "$O/x.otap" "$R/zephyr.yaml"
assert_not_exists "$O/x.bin"

# The slot-size check follows the mode: the res.bin image (5512 + TLVs)
# with 200 bytes to spare fits an overwrite-only trailer (32 bytes), not
# the swap trailer (3120), nor 16 sectors (432); 4 sectors (144) fit.
size=$(stat -c %s "$O/res.bin")
small=$(((size + 7) / 8 * 8 + 200))
expect_exit 3 "slot too small for the swap trailer" \
	pkg "$O/x.bin" "$R/zephyr.yaml" --slot-size $small
assert_contains "$ERR" "3120-byte image trailer (swap status and flags)"
check "overwrite-only fits" pkg "$O/ows.bin" "$R/zephyr.yaml" \
	--slot-size $small --overwrite-only --pad
assert_eq "$(stat -c %s "$O/ows.bin")" "$small" "padded to the small slot"
expect_exit 3 "16 sectors do not fit" pkg "$O/x.bin" "$R/zephyr.yaml" \
	--slot-size $small --max-sectors 16
assert_contains "$ERR" "432-byte image trailer"
check "4 sectors fit" pkg "$O/s4.bin" "$R/zephyr.yaml" --slot-size $small \
	--max-sectors 4
assert_not_exists "$O/x.bin"

# ---------------------------------------------------------------- Intel HEX

objcopy -I binary -O ihex --change-addresses 0x08020000 \
	"$R/images/zephyr.bin" "$R/images/zephyr.hex" || die "objcopy"
# Named .bin, HEX inside: detected by content.
cp "$R/images/zephyr.hex" "$R/images/hexinside.bin"
release "$R/hex.yaml" zephyr.hex
release "$R/hexinside.yaml" hexinside.bin

check "HEX input" pkg "$O/fromhex.bin" "$R/hex.yaml"
assert_contains "$ERR" "input: Intel HEX, 5512 bytes from 0x08020000"
assert_same_file "$O/fromhex.bin" "$O/res.bin"
check "HEX by content, not suffix" pkg "$O/fromhex2.bin" "$R/hexinside.yaml"
assert_same_file "$O/fromhex2.bin" "$O/res.bin"

# sections HEX: "VMA SIZE" per section, by objdump.
sections() {
	objdump -b ihex -h "$1" | awk '/^ *[0-9]+ \.sec/ { print $4, $3 }'
}

check "HEX output at the input's address" pkg "$O/out.hex" "$R/hex.yaml"
assert_contains "$ERR" "output: Intel HEX from 0x08020000"
assert_eq "$(sections "$O/out.hex")" "08020000 $(printf '%08x' "$size")" \
	"one section where the input was"
objcopy -I ihex -O binary "$O/out.hex" "$O/out.hex.bin" || die "objcopy"
assert_same_file "$O/out.hex.bin" "$O/res.bin"

check "HEX output, header prepended below the input" \
	pkg "$O/pre.hex" "$R/hex.yaml" --pad-header --output-format hex
assert_eq "$(sections "$O/pre.hex" | head -n 1 | cut -d' ' -f1)" 0801fe00 \
	"the header 0x200 below the input"
objcopy -I ihex -O binary "$O/pre.hex" "$O/pre.hex.bin" || die "objcopy"
layout "$O/pre.hex.bin"
assert_eq "$(lj .hash_ok)" true "prepended HEX image: hash"
valid "$O/pre.hex.bin"

# Padded HEX holds only the image, image_ok's field and the magic (as
# imgtool writes it); filled with 0xff it is the padded binary.
check "padded HEX" pkg "$O/conf.hex" "$R/hex.yaml" --slot-size $SLOT --confirm
assert_eq "$(sections "$O/conf.hex" | cut -d' ' -f1 | tr '\n' ' ')" \
	"08020000 08023fe8 " "image, then image_ok and the magic"
objcopy -I ihex -O binary --gap-fill 0xff "$O/conf.hex" "$O/conf.hex.bin" ||
	die "objcopy"
assert_same_file "$O/conf.hex.bin" "$O/conf.bin"

check "raw input, --hex-addr" pkg "$O/raw.hex" "$R/zephyr.yaml" \
	--hex-addr 0x10000 --output-format hex
assert_eq "$(sections "$O/raw.hex" | cut -d' ' -f1)" 00010000 "at --hex-addr"
objcopy -I ihex -O binary "$O/raw.hex" "$O/raw.hex.bin" || die "objcopy"
assert_same_file "$O/raw.hex.bin" "$O/res.bin"
check "--output-format bin overrides .hex" pkg "$O/forced.hex" \
	"$R/hex.yaml" --output-format bin
assert_same_file "$O/forced.hex" "$O/res.bin"

expect_exit 2 "raw input to HEX without an address" \
	pkg "$O/x.hex" "$R/zephyr.yaml"
assert_contains "$ERR" "a raw binary has no address"
expect_exit 2 "--hex-addr without HEX output" pkg "$O/x.bin" \
	"$R/zephyr.yaml" --hex-addr 0x1000
expect_exit 2 "--output-format srec" pkg "$O/x.bin" "$R/zephyr.yaml" \
	--output-format srec

# A broken HEX file: refused naming its line, nothing written. Line 3
# holds reserved zeros: its first data digit becomes 1.
sed '3s/^\(.\{9\}\)0/\11/' "$R/images/zephyr.hex" >"$R/images/bad.hex"
release "$R/bad.yaml" bad.hex
expect_exit 3 "HEX checksum" pkg "$O/x.bin" "$R/bad.yaml"
assert_matches "$ERR" "bad.hex: line 3: checksum 0x[0-9a-f]{2} wrong"
head -n -1 "$R/images/zephyr.hex" >"$R/images/cut.hex"
release "$R/cut.yaml" cut.hex
expect_exit 3 "HEX without end record" pkg "$O/x.bin" "$R/cut.yaml"
assert_contains "$ERR" "no end-of-file record"
assert_not_exists "$O/x.bin"

# HEX where raw bytes are expected: named, refused.
expect_exit 3 "otatool format refuses a HEX image" "$OTATOOL" package \
	--key "$K/ed.pem" -o "$O/x.otap" "$R/hexinside.yaml"
assert_contains "$ERR" "hexinside.bin is Intel HEX text, not a raw image"
assert_not_exists "$O/x.otap"
expect_exit 3 "verify names a HEX image" "$OTATOOL" verify \
	--trust-key "$K/ed.pub.pem" "$O/out.hex"
assert_contains "$ERR" "out.hex: Intel HEX text"

# ECDSA: same layout with a randomised signature.
check "P-256, reserved, confirmed, HEX" "$OTATOOL" package --format mcuboot \
	--key "$K/p256.pem" --slot-size $SLOT --confirm -o "$O/p256.hex" \
	"$R/hex.yaml"
objcopy -I ihex -O binary --gap-fill 0xff "$O/p256.hex" "$O/p256.bin" ||
	die "objcopy"
check "verify P-256" "$OTATOOL" verify --trust-key "$K/p256.pub.pem" \
	"$O/p256.bin"
assert_contains "$OUT" "VALID"

finish
