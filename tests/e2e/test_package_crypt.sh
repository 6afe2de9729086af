# End-to-end tests of encrypted otatool packages (format version 3,
# otatool-package(5), otatool-encryption(7)): `package --encrypt-key` for
# several recipients of every key type (P-256, X25519 from `keys generate`,
# RSA-2048/3072, AES-KW) and both key lengths, with --compress, two
# signing keys and --delta-from; each output decrypted by
# tests/e2e/otapkg_crypt.py (an independent reader written from the man
# page with python3-cryptography) and compared with the original image;
# `verify` with and without --decrypt-key, `inspect`, `extract`; SoftHSM
# recipient keys (P-256 derive, RSA decrypt) used inside the token; wrong
# keys, tampered bytes, every bit flip of a small encrypted package.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl python3 softhsm2-util pkcs11-tool cmp jq

PY=$OTATOOL_SRC/tests/e2e/otapkg_crypt.py
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
genkey sign2 -algorithm ED25519
genkey p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey other -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
genkey rsa3072 -algorithm RSA -pkeyopt rsa_keygen_bits:3072
head -c 16 /dev/urandom | base64 >"$K/kek128.b64"
head -c 32 /dev/urandom | base64 >"$K/kek256.b64"
chmod 600 "$K"/*.b64

check "keys generate --type x25519" otatool keys generate --type x25519 \
	--key "$K/x25519.pem"
assert_exists "$K/x25519.pub.pem"
X_ID=$(tr -d '\n' <"$OUT")
assert_eq "$(python3 "$PY" keyid "$K/x25519.pub.pem")" "$X_ID" \
	"the printed key id is SHA-256 of the SubjectPublicKeyInfo"
LAST_NAME="the X25519 private key file is mode 0600"
assert_eq "$(stat -c %a "$K/x25519.pem")" 600 "mode"
assert_matches "$K/x25519.pem" "BEGIN PRIVATE KEY"

# The firmware: a marker that must never show in an encrypted package.
R=$T/rel
mkdir -p "$R"
MARKER=OTATOOL-PLAINTEXT-MARKER-9c41d7
release() { # release DIR VERSION: app.bin (marker, random), cfg.bin (text)
	local dir=$1 version=$2

	mkdir -p "$dir"
	cat >"$dir/release.yaml" <<EOF
name: acme-sensor-fw
version: $version
hardware: [acme-sensor-rev-b]
security_counter: 7
images:
  - name: app
    kind: application
    file: app.bin
  - name: cfg
    kind: config
    file: cfg.bin
git:
  commit: 0123456789abcdef0123456789abcdef01234567
EOF
}
release "$R" 1.2.3
{
	printf '%s' "$MARKER"
	head -c 70001 /dev/urandom
	printf '%s' "$MARKER"
} >"$R/app.bin"
for i in $(seq 1 300); do echo "$MARKER setting-$i = $i"; done >"$R/cfg.bin"
O=$T/out
mkdir -p "$O"

no_marker() { # no_marker NAME FILE
	LAST_NAME="$1: no plaintext marker in the package"
	! grep -qaF "$MARKER" "$2"
	_assert $? "the marker shows in $2"
}

# ------------------------------------------ several recipients, every type

RECIPIENTS=(--encrypt-key "$K/p256.pub.pem" --encrypt-key "$K/x25519.pub.pem"
	--encrypt-key "$K/rsa.pub.pem" --encrypt-key "$K/rsa3072.pub.pem"
	--encrypt-key "$K/kek128.b64")
P=$O/multi.otapkg
check "package for five recipients, two signing keys, cfg compressed" \
	otatool package --key "$K/sign.pem" --key "$K/sign2.pem" \
	--compress-image cfg "${RECIPIENTS[@]}" -o "$P" "$R/release.yaml"
assert_contains "$ERR" "image app: full, encrypted"
assert_contains "$ERR" "image cfg: zlib, encrypted"
assert_contains "$ERR" "otatool package, AES-128"
no_marker "five recipients" "$P"

check "inspect --json" otatool inspect --json "$P"
assert_json "$OUT" .header.format_version 3
assert_json "$OUT" '[.images[].encryption.cipher]' '["aes-128-ctr","aes-128-ctr"]'
assert_json "$OUT" '[.images[0].encryption.recipients[].scheme]' \
	'["ecies-p256","ecies-x25519","rsa-oaep","rsa-oaep","aes-kw"]'
assert_json "$OUT" '.images[0].encryption.recipients[1].keyid' "$(q "$X_ID")"
assert_json "$OUT" '.images[0].encryption.recipients[0].keyid' \
	"$(q "$(python3 "$PY" keyid "$K/p256.pem")")"
assert_json "$OUT" '.images[0].encryption.recipients[4].keyid' \
	"$(q "$(python3 "$PY" keyid "$K/kek128.b64")")"
assert_json "$OUT" '[.images[].encryption.decrypted]' '[false,false]'
check "inspect shows the recipients" otatool inspect "$P"
assert_contains "$OUT" "encrypted, AES-128-CTR, 5 recipients"
assert_contains "$OUT" "ecies-x25519        key id $X_ID"
assert_contains "$OUT" "(not checked: no --decrypt-key)"

for key in p256.pem x25519.pem rsa.pem rsa3072.pem kek128.b64; do
	rm -rf "$O/py"
	check "independent decryptor: $key" python3 "$PY" decrypt "$K/$key" "$P" "$O/py"
	assert_json "$OUT" '[.images[] | .stored_ok and .digest_ok]' '[true,true]'
	assert_same_file "$O/py/app.bin" "$R/app.bin"
	assert_same_file "$O/py/cfg.bin" "$R/cfg.bin"
	check "verify --decrypt-key $key" otatool verify --trust-key "$K/sign.pub.pem" \
		--decrypt-key "$K/$key" "$P"
	assert_contains "$OUT" "decrypted, digest matches"
	rm -rf "$O/x"
	check "extract --decrypt-key $key" otatool extract --trust-key "$K/sign.pub.pem" \
		--decrypt-key "$K/$key" -o "$O/x" "$P"
	assert_same_file "$O/x/app.bin" "$R/app.bin"
	assert_same_file "$O/x/cfg.bin" "$R/cfg.bin"
	assert_contains "$ERR" "decrypted, verified"
done
expect_exit 1 "independent decryptor: a key that is no recipient" \
	python3 "$PY" decrypt "$K/other.pem" "$P" "$O/py"

check "verify without the key: signatures and stored digests" \
	otatool verify --trust-key "$K/sign.pub.pem" "$P"
assert_contains "$OUT" "stored digest matches, plaintext not checked (no --decrypt-key; it decrypts with ecies-p256 key id"
assert_contains "$OUT" "ecies-x25519 key id $X_ID"
assert_contains "$OUT" "verdict: VALID"
check "verify --json without the key" otatool verify --json \
	--trust-key "$K/sign.pub.pem" "$P"
assert_json "$OUT" '[.images[].stored_digest_ok, .images[].digest_ok]' \
	'[true,true,false,false]'
check "verify by the second signing key alone" otatool verify -q \
	--trust-key "$K/sign2.pub.pem" --decrypt-key "$K/x25519.pem" "$P"

expect_exit 2 "extract without the key writes nothing" otatool extract \
	--trust-key "$K/sign.pub.pem" -o "$O/nokey" "$P"
assert_contains "$ERR" "is encrypted (AES-128, for ecies-p256 key id"
assert_contains "$ERR" "give a recipient's key with --decrypt-key"
assert_not_exists "$O/nokey"
expect_exit 5 "extract with a P-256 key that is no recipient" otatool extract \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/other.pem" -o "$O/wrong" "$P"
assert_contains "$ERR" "no IMAGE_KEY unwraps with this P-256 key"
assert_not_exists "$O/wrong"
expect_exit 5 "extract with the other AES-KW key" otatool extract \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/kek256.b64" -o "$O/wrong" "$P"
assert_not_exists "$O/wrong"
expect_exit 5 "a wrong signing key is refused before anything is decrypted" \
	otatool extract --trust-key "$K/other.pub.pem" --decrypt-key "$K/p256.pem" \
	-o "$O/wrong" "$P"
assert_not_exists "$O/wrong"

# -------------------------------------------------- one type, AES-256

P1=$O/x25519-256.otapkg
check "package for one X25519 recipient, AES-256, everything compressed" \
	otatool package -q --key "$K/sign.pem" --compress --encrypt-keylen 256 \
	--encrypt-key "$K/x25519.pub.pem" -o "$P1" "$R/release.yaml"
no_marker "AES-256" "$P1"
check "inspect --json: AES-256" otatool inspect --json "$P1"
assert_json "$OUT" '[.images[].encryption.cipher]' '["aes-256-ctr","aes-256-ctr"]'
assert_json "$OUT" '[.images[].compression]' '["zlib","zlib"]'
rm -rf "$O/py"
check "independent decryptor: AES-256, zlib" python3 "$PY" decrypt \
	"$K/x25519.pem" "$P1" "$O/py"
assert_same_file "$O/py/app.bin" "$R/app.bin"
assert_same_file "$O/py/cfg.bin" "$R/cfg.bin"
expect_exit 7 "a P-256 key for an X25519-only package" otatool verify \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/p256.pem" "$P1"
assert_contains "$ERR" "a P-256 key cannot decrypt it: it is encrypted for ecies-x25519 key id $X_ID"
expect_exit 2 "--encrypt-keylen 192" otatool package -q --key "$K/sign.pem" \
	--encrypt-keylen 192 --encrypt-key "$K/x25519.pub.pem" -o "$O/r.otapkg" \
	"$R/release.yaml"
expect_exit 2 "--encrypt-keylen without --encrypt-key" otatool package -q \
	--key "$K/sign.pem" --encrypt-keylen 256 -o "$O/r.otapkg" "$R/release.yaml"
expect_exit 3 "--encrypt-key of an unreadable kind" otatool package -q \
	--key "$K/sign.pem" --encrypt-key "$R/cfg.bin" -o "$O/r.otapkg" \
	"$R/release.yaml"
assert_not_exists "$O/r.otapkg"

# ------------------------------------------------------------- tampering

cp "$P" "$O/t.otapkg"
APP_OFF=$(otatool inspect --json "$P" | jq -r '.images[0].offset')
flip_byte "$O/t.otapkg" $((APP_OFF + 100))
expect_exit 5 "a flipped cipher text byte, without the key" otatool verify -q \
	--trust-key "$K/sign.pub.pem" "$O/t.otapkg"
expect_exit 5 "a flipped cipher text byte, with the key: nothing written" \
	otatool extract --trust-key "$K/sign.pub.pem" --decrypt-key "$K/p256.pem" \
	-o "$O/t" "$O/t.otapkg"
assert_contains "$ERR" "digest mismatch"
assert_not_exists "$O/t"
# The last bytes of the protected region are the AES-KW wrapped key.
cp "$P" "$O/k.otapkg"
PSIZE=$(otatool inspect --json "$P" | jq -r '.header.protected_size')
flip_byte "$O/k.otapkg" $((64 + PSIZE - 2))
expect_exit 5 "a flipped wrapped key byte: the signature fails first" \
	otatool verify -q --trust-key "$K/sign.pub.pem" --decrypt-key \
	"$K/kek128.b64" "$O/k.otapkg"
assert_contains "$ERR" "signature"

# ----------------------------------------------- delta, encrypted patch

D=$T/rel2
release "$D" 1.3.0
cp "$R/cfg.bin" "$D/cfg.bin"
{
	head -c 40000 "$R/app.bin"
	printf 'NEW-CODE-%s' "$MARKER"
	tail -c +40001 "$R/app.bin"
} >"$D/app.bin"
check "a base release in the clear" otatool package -q --key "$K/sign.pem" \
	-o "$O/base.otapkg" "$R/release.yaml"
PD=$O/delta.otapkg
check "an encrypted delta package" otatool package --key "$K/sign.pem" \
	--delta-from "$O/base.otapkg" --encrypt-key "$K/p256.pub.pem" \
	--encrypt-key "$K/x25519.pub.pem" -o "$PD" "$D/release.yaml"
assert_contains "$ERR" "image app: patch, encrypted"
no_marker "encrypted delta" "$PD"
check "inspect --json: patches, encrypted, format 3" otatool inspect --json "$PD"
assert_json "$OUT" .header.format_version 3
assert_json "$OUT" '[.images[].compression]' '["patch","patch"]'
assert_json "$OUT" '[.images[].encryption.recipients | length]' '[2,2]'
rm -rf "$O/x"
check "extract --base --decrypt-key: decrypted and rebuilt" otatool extract \
	--trust-key "$K/sign.pub.pem" --base "$O/base.otapkg" \
	--decrypt-key "$K/x25519.pem" -o "$O/x" "$PD"
assert_same_file "$O/x/app.bin" "$D/app.bin"
assert_same_file "$O/x/cfg.bin" "$D/cfg.bin"
assert_contains "$ERR" "decrypted, rebuilt from its base, verified"
rm -rf "$O/py"
check "independent decryptor: the decrypted patches" python3 "$PY" decrypt \
	"$K/p256.pem" "$PD" "$O/py"
assert_json "$OUT" '[.images[].stored_ok]' '[true,true]'
check "the independently decrypted patch rebuilds the image" \
	otatool verify -q --trust-key "$K/sign.pub.pem" --base "$O/base.otapkg" \
	--decrypt-key "$K/p256.pem" "$PD"
LAST_NAME="the decrypted patch is an otatool patch"
assert_eq "$(head -c 4 "$O/py/app.patch")" "OTDL" "patch magic"
expect_exit 2 "extract of an encrypted delta without --base" otatool extract \
	--trust-key "$K/sign.pub.pem" --decrypt-key "$K/x25519.pem" -o "$O/nob" "$PD"
assert_not_exists "$O/nob"

# ------------------------------------------------- SoftHSM recipient keys

H=$T/hsm
make_token "$H" device
P11="pkcs11-tool --module $SOFTHSM_MODULE --login --pin 1234"
$P11 --keypairgen --key-type EC:prime256v1 --label dev-ec --id 01 \
	--usage-derive >"$H/gen.log" 2>&1 || die "pkcs11-tool EC: $(cat "$H/gen.log")"
$P11 --keypairgen --key-type rsa:2048 --label dev-rsa --id 02 \
	--usage-decrypt >"$H/gen.log" 2>&1 || die "pkcs11-tool RSA: $(cat "$H/gen.log")"
check "keys export-public of the token's P-256 recipient key" otatool keys \
	export-public "pkcs11:token=device;object=dev-ec" -o "$H/ec.pub.pem"
EC_ID=$(python3 "$PY" keyid "$H/ec.pub.pem")
assert_contains "$ERR" "key id $EC_ID"
check "keys export-public of the token's RSA recipient key" otatool keys \
	export-public "pkcs11:token=device;object=dev-rsa" -o "$H/rsa.pub.pem"
expect_exit 7 "keys generate --type x25519 in a token is refused, and says why" \
	otatool keys generate --type x25519 --key "pkcs11:token=device;object=x"
assert_contains "$ERR" "CKK_EC_MONTGOMERY"
PT=$O/token.otapkg
check "package for a token key by URI and an exported RSA key" \
	otatool package -q --key "$K/sign.pem" \
	--encrypt-key "pkcs11:token=device;object=dev-ec" \
	--encrypt-key "$H/rsa.pub.pem" --encrypt-keylen 256 --compress-image cfg \
	-o "$PT" "$R/release.yaml"
no_marker "token recipients" "$PT"
check "inspect --json: the token key's id" otatool inspect --json "$PT"
assert_json "$OUT" '.images[0].encryption.recipients[0].keyid' "$(q "$EC_ID")"
for label in dev-ec dev-rsa; do
	rm -rf "$O/x"
	check "token $label: extract, decrypted inside the token" otatool extract \
		--trust-key "$K/sign.pub.pem" \
		--decrypt-key "pkcs11:token=device;object=$label" -o "$O/x" "$PT"
	assert_same_file "$O/x/app.bin" "$R/app.bin"
	assert_same_file "$O/x/cfg.bin" "$R/cfg.bin"
	check "token $label: verify" otatool verify -q --trust-key "$K/sign.pub.pem" \
		--decrypt-key "pkcs11:token=device;object=$label" "$PT"
done
expect_exit 5 "token key that is no recipient of a package" otatool verify -q \
	--trust-key "$K/sign.pub.pem" --decrypt-key "pkcs11:token=device;object=dev-ec" \
	"$P"

# ------------------------------------- every bit flip of a small package

S=$T/small
mkdir -p "$S"
cat >"$S/release.yaml" <<EOF
name: s
version: 1.0.0
hardware: [b]
security_counter: 1
images:
  - name: a
    kind: application
    file: a.bin
git:
  commit: 0123456789abcdef0123456789abcdef01234567
EOF
head -c 40 /dev/urandom >"$S/a.bin"
SP=$S/s.otapkg
check "small encrypted package (AES-KW, alignment 16)" otatool package -q \
	--key "$K/sign2.pem" --alignment 16 --encrypt-key "$K/kek128.b64" \
	-o "$SP" "$S/release.yaml"
SIZE=$(stat -c %s "$SP")
VERIFY=("$OTATOOL" verify -q --trust-key "$K/sign2.pub.pem" --decrypt-key
	"$K/kek128.b64")
check "small encrypted package verifies" "${VERIFY[@]}" "$SP"
assert_mutations_refused trunc "$SP" 64 "$SIZE" \
	"every truncation of a small encrypted package refused" "${VERIFY[@]}"
# Every bit of the header, one bit of every other byte (each byte changed
# once); every bit of every byte with OTATOOL_TEST_FULL_WALK=1. The unit
# tests (package_crypt) flip every bit through the library.
if [ "${OTATOOL_TEST_FULL_WALK:-0}" = 1 ]; then
	assert_mutations_refused flip "$SP" 64 $((SIZE * 8)) \
		"every bit flip of a small encrypted package refused" "${VERIFY[@]}"
else
	assert_mutations_refused flip-sparse "$SP" 64 $((SIZE + 64 * 7)) \
		"a bit flip in every byte of a small encrypted package refused" \
		"${VERIFY[@]}"
fi

finish
