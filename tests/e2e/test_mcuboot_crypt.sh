# End-to-end tests of encrypted MCUboot images (otatool-encryption(7),
# otatool-mcuboot(5)): `package --format mcuboot --encrypt-key` for every
# key type and both key lengths, --clear and --hmac-sha 512, checked in
# both directions against tests/e2e/mcuboot_crypt.py (an independent
# implementation from MCUboot's docs with python3-cryptography) and the
# signatures over the plaintext with openssl; `verify`, `inspect` and
# `extract --decrypt-key` with key files and SoftHSM keys (P-256 derive,
# RSA decrypt); wrong keys, tampered key TLVs and ciphertext.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl python3 softhsm2-util pkcs11-tool dd cmp

CRYPT=$OTATOOL_SRC/tests/e2e/mcuboot_crypt.py
python3 -c 'import cryptography.hazmat.primitives.keywrap' 2>/dev/null ||
	die "python3-cryptography is required (scripts/deps installs it)"

K=$T/keys
mkdir -p "$K"
genkey() {
	local name=$1

	shift
	openssl genpkey "$@" -out "$K/$name.pem" 2>/dev/null &&
		openssl pkey -in "$K/$name.pem" -pubout -out "$K/$name.pub.pem" ||
		die "openssl genpkey $*"
}
genkey sign -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey p256b -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey x25519 -algorithm X25519
genkey rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
genkey rsa3072 -algorithm RSA -pkeyopt rsa_keygen_bits:3072
head -c 16 /dev/urandom | base64 >"$K/kek128.b64"
head -c 32 /dev/urandom | base64 >"$K/kek256.b64"
chmod 600 "$K"/*.b64

# The firmware: a marker that must never show in an encrypted image, and
# a size that is not a multiple of 16 (the payload gets padded).
R=$T/rel
mkdir -p "$R"
MARKER=OTATOOL-PLAINTEXT-MARKER-5f2c1e
{
	printf '%s' "$MARKER"
	head -c 70001 /dev/urandom
	printf '%s' "$MARKER"
} >"$R/app.bin"
APP_SIZE=$(stat -c %s "$R/app.bin")
PADDED=$(((APP_SIZE + 15) / 16 * 16))
cat >"$R/release.yaml" <<EOF
name: acme-sensor-fw
version: 1.2.3
hardware: [acme-sensor-rev-b]
security_counter: 7
images:
  - name: app
    kind: application
    file: app.bin
git:
  commit: 0123456789abcdef0123456789abcdef01234567
EOF
O=$T/out
mkdir -p "$O"

# package OUT ARGS...: an MCUboot image of the release signed by sign.pem.
package() {
	local out=$1

	shift
	otatool package -q --format mcuboot --key "$K/sign.pem" -o "$out" \
		"$@" "$R/release.yaml"
}

# unhex HEX FILE
unhex() {
	python3 -c 'import sys; open(sys.argv[2], "wb").write(bytes.fromhex(sys.argv[1]))' \
		"$1" "$2"
}

# py_decrypt NAME KEY IMG: mcuboot_crypt.py decrypts IMG with KEY, its hash
# over the plaintext matches, the signature over it verifies with openssl,
# and the payload is the firmware zero-padded to 16 bytes.
py_decrypt() {
	local name=$1 key=$2 img=$3 d

	d=$(mktemp -d "$T/dec.XXXXXX")
	check "$name: mcuboot_crypt.py decrypts, hash matches" \
		python3 "$CRYPT" image-decrypt "$key" "$img" "$d/plain.bin"
	cp "$OUT" "$d/info.json"
	unhex "$(jq -r .digest "$d/info.json")" "$d/digest"
	unhex "$(jq -r .sig "$d/info.json")" "$d/sig"
	check "$name: openssl verifies the signature over the plaintext" \
		openssl pkeyutl -verify -pubin -inkey "$K/sign.pub.pem" \
		-in "$d/digest" -sigfile "$d/sig"
	dd if="$d/plain.bin" of="$d/payload" bs=512 skip=1 \
		count=$((PADDED / 512 + 1)) status=none
	head -c "$PADDED" "$d/payload" >"$d/payload.cut"
	{
		cat "$R/app.bin"
		head -c $((PADDED - APP_SIZE)) /dev/zero
	} >"$d/expected"
	LAST_NAME="$name: decrypted payload"
	assert_same_file "$d/payload.cut" "$d/expected"
}

no_marker() {
	LAST_NAME="$1: no plaintext in the image"
	! grep -qaF "$MARKER" "$2"
	_assert $? "the firmware's marker shows in $2"
}

# ------------------------------------------- otatool encrypts, Python reads

for spec in "ecies-p256 p256 0x32" "ecies-x25519 x25519 0x33" \
	"rsa-oaep rsa 0x30" "aes-kw kek 0x31"; do
	read -r scheme key tlv <<<"$spec"
	for bits in 128 256; do
		name="$scheme AES-$bits"
		img=$O/$scheme-$bits.bin
		if [ "$key" = kek ]; then
			pub=$K/kek$bits.b64 priv=$K/kek$bits.b64
		else
			pub=$K/$key.pub.pem priv=$K/$key.pem
		fi
		check "$name: package --encrypt-key" package "$img" \
			--encrypt-key "$pub" --encrypt-keylen "$bits"
		check "$name: inspect" otatool inspect --json "$img"
		assert_json "$OUT" .flags "$([ "$bits" = 128 ] && echo 4 || echo 8)"
		assert_json "$OUT" .encryption.key_tlv $((tlv))
		assert_json "$OUT" .encryption.payload '"encrypted"'
		assert_json "$OUT" .image_size "$PADDED"
		no_marker "$name" "$img"
		py_decrypt "$name" "$priv" "$img"
		check "$name: verify --decrypt-key" otatool verify \
			--trust-key "$K/sign.pub.pem" --decrypt-key "$priv" "$img"
		assert_contains "$OUT" "[  ok  ] decryption"
		assert_contains "$OUT" "verdict: VALID"
		rm -rf "$O/x"
		check "$name: extract --decrypt-key" otatool extract \
			--trust-key "$K/sign.pub.pem" --decrypt-key "$priv" \
			-o "$O/x" "$img"
		LAST_NAME="$name: extracted payload"
		cmp -s -n "$APP_SIZE" "$O/x/payload.bin" "$R/app.bin"
		_assert $? "payload.bin does not start with the firmware"
		assert_eq "$(stat -c %s "$O/x/payload.bin")" "$PADDED" \
			"payload.bin size (padded to 16)"
	done
done

# HMAC-SHA-512: TLV 0x34 with a 112/128-byte payload.
for bits in 128 256; do
	img=$O/x512-$bits.bin
	check "x25519 sha512 AES-$bits: package" package "$img" \
		--encrypt-key "$K/x25519.pub.pem" --hmac-sha 512 \
		--encrypt-keylen "$bits"
	check "x25519 sha512: inspect" otatool inspect --json "$img"
	assert_json "$OUT" .encryption.key_tlv 52
	assert_json "$OUT" .encryption.key_tlv_len \
		"$([ "$bits" = 128 ] && echo 112 || echo 128)"
	no_marker "x25519 sha512" "$img"
	py_decrypt "x25519 sha512 AES-$bits" "$K/x25519.pem" "$img"
	check "x25519 sha512: verify" otatool verify -q \
		--trust-key "$K/sign.pub.pem" --decrypt-key "$K/x25519.pem" "$img"
done

# ------------------------------------------- Python encrypts, otatool reads

# A --clear image: key TLV and flag, plaintext payload; it verifies as it
# is, without a key, as MCUboot checks a primary slot.
CLEAR=$O/clear.bin
check "--clear: package" package "$CLEAR" --encrypt-key "$K/p256.pub.pem" \
	--clear
LAST_NAME="--clear: the payload is stored in the clear"
grep -qaF "$MARKER" "$CLEAR"
_assert $? "no plaintext marker in a --clear image"
check "--clear: verify without a key" otatool verify \
	--trust-key "$K/sign.pub.pem" "$CLEAR"
assert_contains "$OUT" "stored in the clear"
assert_contains "$OUT" "verdict: VALID"
check "--clear: verify with the key too" otatool verify -q \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/p256.pem" "$CLEAR"
check "--clear: inspect" otatool inspect --json "$CLEAR"
assert_json "$OUT" .encryption.payload '"clear"'
assert_json "$OUT" .hash_ok true

# What a swap does to it: a new content key, wrapped by Python, the payload
# encrypted by Python; the signature is otatool's, over the plaintext.
for spec in "ecies-p256 p256" "ecies-x25519 x25519" \
	"ecies-x25519-sha512 x25519" "rsa-oaep rsa" "aes-kw kek"; do
	read -r scheme key <<<"$spec"
	for bits in 128 256; do
		name="python $scheme AES-$bits"
		src=$O/c-$scheme-$bits.bin img=$O/p-$scheme-$bits.bin
		if [ "$key" = kek ]; then
			pub=$K/kek$bits.b64 priv=$K/kek$bits.b64
		else
			pub=$K/$key.pub.pem priv=$K/$key.pem
		fi
		extra=()
		[ "$scheme" = ecies-x25519-sha512 ] && extra=(--hmac-sha 512)
		check "$name: otatool --clear" package "$src" --encrypt-key "$pub" \
			--encrypt-keylen "$bits" --clear "${extra[@]}"
		check "$name: mcuboot_crypt.py encrypts" python3 "$CRYPT" \
			image-encrypt "$scheme" "$pub" "$src" "$img"
		no_marker "$name" "$img"
		check "$name: otatool verify --decrypt-key" otatool verify \
			--trust-key "$K/sign.pub.pem" --decrypt-key "$priv" "$img"
		assert_contains "$OUT" "[  ok  ] decryption"
		rm -rf "$O/x"
		check "$name: extract" otatool extract -q \
			--trust-key "$K/sign.pub.pem" --decrypt-key "$priv" \
			-o "$O/x" "$img"
		bytes_ok=$(cmp -s -n "$APP_SIZE" "$O/x/payload.bin" "$R/app.bin" &&
			echo yes)
		assert_eq "$bytes_ok" yes "$name: extracted payload is the firmware"
	done
done

# ------------------------------------------------------ without the key

IMG=$O/ecies-p256-128.bin
expect_exit 5 "no key: verify refuses" otatool verify \
	--trust-key "$K/sign.pub.pem" "$IMG"
assert_contains "$OUT" "[ skip ] image hash"
assert_contains "$OUT" "[ skip ] signature"
assert_contains "$ERR" "were not checked; give --decrypt-key with a P-256 private key"
check "no key: inspect shows it" otatool inspect "$IMG"
assert_contains "$OUT" "not checked without --decrypt-key"
assert_contains "$OUT" '"key_needed":"a P-256 private key"'
expect_exit 5 "no key: extract refuses" otatool extract \
	--trust-key "$K/sign.pub.pem" -o "$O/none" "$IMG"
assert_not_exists "$O/none"

# ------------------------------------------------------ wrong keys

expect_exit 5 "another P-256 key: verify refuses" otatool verify \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/p256b.pem" "$IMG"
assert_contains "$ERR" "HMAC-SHA-256 of the wrapped key does not match"
assert_contains "$OUT" "[ FAIL ] decryption"
expect_exit 7 "an X25519 key for a P-256 TLV" otatool verify \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/x25519.pem" "$IMG"
assert_contains "$ERR" "which needs a P-256 private key; this is a X25519 key"
expect_exit 5 "another AES-KW key" otatool verify \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/kek128.b64" \
	"$O/aes-kw-256.bin"
assert_contains "$ERR" "AES-KW integrity check failed"
expect_exit 5 "another RSA key" otatool verify --trust-key "$K/sign.pub.pem" \
	--decrypt-key "$K/rsa3072.pem" "$O/rsa-oaep-128.bin"
expect_exit 5 "another key: extract writes nothing" otatool extract \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/p256b.pem" \
	-o "$O/none" "$IMG"
assert_not_exists "$O/none"

# ------------------------------------------------------ tampering

# Offsets from the image itself: the key TLV's payload, and the payload.
key_off=$(python3 - "$IMG" <<'EOF'
import sys
b = open(sys.argv[1], 'rb').read()
u16 = lambda o: b[o] | b[o + 1] << 8
u32 = lambda o: u16(o) | u16(o + 2) << 16
p = u16(8) + u32(12) + u16(10)
pos, end = p + 4, p + u16(p + 2)
while pos < end:
    if u16(pos) == 0x32:
        print(pos + 4)
    pos += 4 + u16(pos + 2)
EOF
)
[ -n "$key_off" ] || die "no key TLV in $IMG"
for rel in 0 1 40 64 70 100 112; do
	cp "$IMG" "$O/t.bin"
	flip_byte "$O/t.bin" $((key_off + rel))
	expect_exit 5 "key TLV byte $rel flipped: refused" otatool verify -q \
		--trust-key "$K/sign.pub.pem" --decrypt-key "$K/p256.pem" "$O/t.bin"
done
for off in 512 600 $((512 + PADDED - 1)); do
	cp "$IMG" "$O/t.bin"
	flip_byte "$O/t.bin" "$off"
	expect_exit 5 "ciphertext byte $off flipped: refused" otatool verify \
		--trust-key "$K/sign.pub.pem" --decrypt-key "$K/p256.pem" "$O/t.bin"
	assert_contains "$ERR" "with the payload decrypted"
	expect_exit 5 "ciphertext byte $off flipped: extract refuses" \
		otatool extract --trust-key "$K/sign.pub.pem" \
		--decrypt-key "$K/p256.pem" -o "$O/none" "$O/t.bin"
	assert_not_exists "$O/none"
done
# The flag: AES-256 announced for a 16-byte key, and both flags at once.
python3 - "$IMG" "$O/t256.bin" "$O/tboth.bin" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[16] = 0x08
open(sys.argv[2], 'wb').write(b)
b[16] = 0x0c
open(sys.argv[3], 'wb').write(b)
EOF
expect_exit 5 "AES-256 flag on an AES-128 key TLV" otatool verify -q \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/p256.pem" "$O/t256.bin"
expect_exit 5 "both flags: inspect refuses" otatool inspect "$O/tboth.bin"
assert_contains "$ERR" "both ENCRYPTED_AES128 and ENCRYPTED_AES256"

# ------------------------------------------------------ refusals

expect_exit 2 "--clear without --encrypt-key" package "$O/r.bin" --clear
assert_contains "$ERR" "--clear needs --encrypt-key"
expect_exit 2 "--encrypt-keylen 192" package "$O/r.bin" \
	--encrypt-key "$K/p256.pub.pem" --encrypt-keylen 192
expect_exit 2 "--hmac-sha 512 with a P-256 key" package "$O/r.bin" \
	--encrypt-key "$K/p256.pub.pem" --hmac-sha 512
expect_exit 7 "an RSA-3072 device key" package "$O/r.bin" \
	--encrypt-key "$K/rsa3072.pub.pem"
assert_contains "$ERR" "MCUboot unwraps with RSA-2048 only"
expect_exit 2 "--clear for the otatool format" otatool package -q \
	--key "$K/sign.pem" --encrypt-key "$K/p256.pub.pem" --clear \
	-o "$O/r.bin" "$R/release.yaml"
assert_contains "$ERR" "--clear is for --format mcuboot"
assert_not_exists "$O/r.bin"
expect_exit 2 "two --encrypt-key for an MCUboot image" package "$O/r.bin" \
	--encrypt-key "$K/p256.pub.pem" --encrypt-key "$K/x25519.pub.pem"
assert_contains "$ERR" "one --encrypt-key"
assert_not_exists "$O/r.bin"
check "an otatool package in the clear" otatool package -q --key "$K/sign.pem" \
	-o "$O/pkg.otapkg" "$R/release.yaml"
check "--decrypt-key on a package in the clear: nothing to decrypt" \
	otatool verify --trust-key "$K/sign.pub.pem" --decrypt-key "$K/p256.pem" \
	"$O/pkg.otapkg"
assert_contains "$OUT" "digest matches"
assert_not_contains "$OUT" "decrypted"

# ------------------------------------------------------ SoftHSM device keys

H=$T/hsm
make_token "$H" device
P11="pkcs11-tool --module $SOFTHSM_MODULE --login --pin 1234"
$P11 --keypairgen --key-type EC:prime256v1 --label dev-ec --id 01 \
	--usage-derive >"$H/gen.log" 2>&1 || die "pkcs11-tool EC: $(cat "$H/gen.log")"
$P11 --keypairgen --key-type rsa:2048 --label dev-rsa --id 02 \
	--usage-decrypt >"$H/gen.log" 2>&1 || die "pkcs11-tool RSA: $(cat "$H/gen.log")"
for id in 01 02; do
	$P11 --read-object --type pubkey --id "$id" -o "$H/$id.der" \
		>"$H/read.log" 2>&1 || die "pkcs11-tool read: $(cat "$H/read.log")"
	openssl pkey -pubin -inform DER -in "$H/$id.der" -out "$H/$id.pem" ||
		die "openssl pkey $H/$id.der"
done
for spec in "01 dev-ec ecies-p256" "02 dev-rsa rsa-oaep"; do
	read -r id label scheme <<<"$spec"
	img=$O/hsm-$label.bin
	check "token $label: package for its public key" package "$img" \
		--encrypt-key "$H/$id.pem" --encrypt-keylen 256
	no_marker "token $label" "$img"
	check "token $label: verify, decrypted inside the token" otatool verify \
		--trust-key "$K/sign.pub.pem" \
		--decrypt-key "pkcs11:token=device;object=$label" "$img"
	assert_contains "$OUT" "[  ok  ] decryption"
	rm -rf "$O/x"
	check "token $label: extract" otatool extract -q \
		--trust-key "$K/sign.pub.pem" \
		--decrypt-key "pkcs11:token=device;object=$label" -o "$O/x" "$img"
	bytes_ok=$(cmp -s -n "$APP_SIZE" "$O/x/payload.bin" "$R/app.bin" && echo yes)
	assert_eq "$bytes_ok" yes "token $label: extracted payload"
	# Python wraps for the token's key too.
	check "token $label: --clear" package "$O/hc.bin" \
		--encrypt-key "$H/$id.pem" --clear
	check "token $label: mcuboot_crypt.py encrypts" python3 "$CRYPT" \
		image-encrypt "$scheme" "$H/$id.pem" "$O/hc.bin" "$O/hp.bin"
	check "token $label: otatool verify" otatool verify -q \
		--trust-key "$K/sign.pub.pem" \
		--decrypt-key "pkcs11:token=device;object=$label" "$O/hp.bin"
done
expect_exit 5 "token: the wrong token key" otatool verify -q \
	--trust-key "$K/sign.pub.pem" \
	--decrypt-key "pkcs11:token=device;object=dev-ec" "$IMG"
expect_exit 7 "token: RSA key for an ECIES TLV" otatool verify \
	--trust-key "$K/sign.pub.pem" \
	--decrypt-key "pkcs11:token=device;object=dev-rsa" "$IMG"
assert_contains "$ERR" "which needs a P-256 private key"

finish
