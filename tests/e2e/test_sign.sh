# End-to-end tests of `otatool sign`: every signature is checked with
# openssl exactly as otatool-signature(5) tells a verifier to, with keys in
# files and in a SoftHSM token, made by otatool and by other tools; two-step
# signing with signatures made by openssl and pkcs11-tool; and refusals.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl softhsm2-util pkcs11-tool setsid timeout mkfifo base64
if [ ! -f "$SOFTHSM_MODULE" ]; then
	echo "SoftHSM module $SOFTHSM_MODULE is missing (scripts/deps)" >&2
	exit 2
fi

FAKE_COMMIT=0123456789abcdef0123456789abcdef01234567
PAYLOAD_TYPE=application/vnd.otatool.manifest+json

# ---------------------------------------------------------------- helpers

# keyid_of PUBFILE: SHA-256 of the DER SubjectPublicKeyInfo, by openssl.
keyid_of() {
	openssl pkey -pubin -in "$1" -outform DER 2>/dev/null |
		sha256sum | cut -d' ' -f1
}

sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

# hex_to_file HEX FILE: the bytes HEX spells (xxd is not a dependency).
hex_to_file() {
	# shellcheck disable=SC2001,SC2059 # the format is the point
	printf "$(sed 's/../\\x&/g' <<<"$1")" >"$2"
}

# make_pae MANIFEST OUT: the DSSE pre-authentication encoding, built as
# otatool-signature(5) spells it out, not by otatool.
make_pae() {
	printf 'DSSEv1 %d %s %d ' "${#PAYLOAD_TYPE}" "$PAYLOAD_TYPE" \
		"$(stat -c %s "$1")" >"$2"
	cat "$1" >>"$2"
}

# extract SIGNED I DIR: DIR/payload, DIR/pae and DIR/sig of signature I.
extract() {
	jq -r .payload "$1" | base64 -d >"$3/payload"
	make_pae "$3/payload" "$3/pae"
	jq -r ".signatures[$2].sig" "$1" | base64 -d >"$3/sig"
}

# ossl_verify ALG PUB MESSAGE SIG: openssl's verdict, with the commands of
# otatool-signature(5), VERIFYING WITH OPENSSL.
# shellcheck disable=SC2317 # called through check and expect_exit
ossl_verify() {
	case $1 in
	ecdsa-p256-sha256 | rsa-pkcs1-sha256)
		openssl dgst -sha256 -verify "$2" -signature "$4" "$3" ;;
	ecdsa-p384-sha384)
		openssl dgst -sha384 -verify "$2" -signature "$4" "$3" ;;
	rsa-pss-sha256)
		openssl dgst -sha256 -sigopt rsa_padding_mode:pss \
			-sigopt rsa_pss_saltlen:32 -verify "$2" -signature "$4" "$3" ;;
	ed25519)
		openssl pkeyutl -verify -pubin -inkey "$2" -rawin -in "$3" \
			-sigfile "$4" ;;
	*)
		echo "unknown algorithm $1" >&2
		return 2 ;;
	esac
}

# check_signature NAME SIGNED I ALG PUB MANIFEST: signature I of SIGNED is
# an ALG signature by PUB over MANIFEST's exact bytes, and openssl says so;
# the same signature over a changed manifest does not verify.
check_signature() {
	local name=$1 signed=$2 i=$3 alg=$4 pub=$5 manifest=$6 d

	d=$(mktemp -d "$T/sig.XXXXXX")
	LAST_NAME=$name
	assert_json "$signed" ".signatures[$i].algorithm" "$(q "$alg")"
	assert_json "$signed" ".signatures[$i].keyid" "$(q "$(keyid_of "$pub")")"
	extract "$signed" "$i" "$d"
	assert_same_file "$d/payload" "$manifest"
	check "$name: openssl verifies signature $i" \
		ossl_verify "$alg" "$pub" "$d/pae" "$d/sig"
	assert_matches "$OUT" '^(Verified OK|Signature Verified Successfully)$'
	sed 's/"security_counter": \([0-9]*\),/"security_counter": 1\1,/' \
		"$d/pae" >"$d/bad.pae"
	! cmp -s "$d/pae" "$d/bad.pae"
	_assert $? "$name: the tampered copy differs"
	expect_exit 1 "$name: openssl rejects signature $i over a tampered payload" \
		ossl_verify "$alg" "$pub" "$d/bad.pae" "$d/sig"
}

# sig_bytes SIGNED I OUT: the raw bytes of signature I.
sig_bytes() {
	jq -r ".signatures[$2].sig" "$1" | base64 -d >"$3"
}

# genkey NAME OPENSSL-GENPKEY-ARGS...: $K/NAME.pem and $K/NAME.pub.pem,
# made by openssl, not by otatool.
genkey() {
	local name=$1

	shift
	if ! openssl genpkey "$@" -out "$K/$name.pem" 2>/dev/null ||
		! openssl pkey -in "$K/$name.pem" -pubout -out "$K/$name.pub.pem"; then
		die "openssl genpkey $*"
	fi
}

# ---------------------------------------------------------------- fixtures

R=$T/rel
mkdir -p "$R"
cp -r "$OTATOOL_SRC/examples/release.yaml" "$OTATOOL_SRC/examples/images" "$R/"
in_dir "$R" env SOURCE_DATE_EPOCH=1700000000 otatool manifest -q \
	--git-commit "$FAKE_COMMIT" -o m.json release.yaml ||
	die "otatool manifest"
in_dir "$R" env SOURCE_DATE_EPOCH=1700000000 otatool manifest -q \
	--git-commit "$FAKE_COMMIT" --release-version 9.9.9 -o other.json \
	release.yaml || die "otatool manifest (other)"
M=$R/m.json
M_SHA=$(sha "$M")
cmp -s "$M" "$R/other.json" && die "the two manifests are identical"

K=$T/keys
mkdir -p "$K"
genkey p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey p256b -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
genkey rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
genkey rsa3072 -algorithm RSA -pkeyopt rsa_keygen_bits:3072
genkey rsa4096 -algorithm RSA -pkeyopt rsa_keygen_bits:4096
genkey ed25519 -algorithm ED25519
genkey p521 -algorithm EC -pkeyopt ec_paramgen_curve:P-521
genkey rsa1024 -algorithm RSA -pkeyopt rsa_keygen_bits:1024
if ! openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-aes-256-cbc -pass pass:secret -out "$K/enc.pem" 2>/dev/null ||
	! openssl pkey -in "$K/enc.pem" -passin pass:secret -pubout \
		-out "$K/enc.pub.pem"; then
	die "encrypted key"
fi
openssl req -x509 -new -key "$K/p256.pem" -subj "/CN=otatool dev" -days 30 \
	-out "$K/p256.crt" 2>/dev/null || die "openssl req -x509"
openssl req -x509 -new -key "$K/p256b.pem" -subj "/CN=someone else" \
	-days 30 -out "$K/p256b.crt" 2>/dev/null || die "openssl req -x509"

S=$T/signed
mkdir -p "$S"

# ---------------------------------------------------------------- file keys

# KEY ALGORITHM [OPTIONS...]: $K/KEY.pem signs, openssl checks ALGORITHM.
CASES=(
	"p256 ecdsa-p256-sha256"
	"p384 ecdsa-p384-sha384"
	"rsa2048 rsa-pss-sha256"
	"rsa3072 rsa-pkcs1-sha256 --rsa-padding pkcs1"
	"rsa4096 rsa-pss-sha256"
	"ed25519 ed25519"
	"rsa2048 rsa-pss-sha256 --rsa-padding pss"
)
# The PAE of $M, built here: what every signature of $M must cover.
make_pae "$M" "$T/sig.pae"
n=0
for c in "${CASES[@]}"; do
	read -r key alg opts <<<"$c"
	n=$((n + 1))
	out=$S/file-$n.signed.json
	# shellcheck disable=SC2086 # opts is a list
	check "sign with a $key file key ($alg)" \
		otatool sign --key "$K/$key.pem" $opts -o "$out" "$M"
	assert_contains "$ERR" "otatool: sign: $M -> $out (1 signature)"
	assert_empty "$OUT"
	assert_json "$out" '.signatures | length' 1
	check_signature "$key file key" "$out" 0 "$alg" "$K/$key.pub.pem" "$M"
	sig_bytes "$out" 0 "$S/file-$n.sig"
	case $alg in
	rsa-pss-sha256)
		# PSS, not PKCS#1 v1.5 mislabelled.
		expect_exit 1 "$key: not a PKCS#1 v1.5 signature" \
			ossl_verify rsa-pkcs1-sha256 "$K/$key.pub.pem" \
			"$T/sig.pae" "$S/file-$n.sig"
		;;
	rsa-pkcs1-sha256)
		expect_exit 1 "$key: not a PSS signature" \
			ossl_verify rsa-pss-sha256 "$K/$key.pub.pem" \
			"$T/sig.pae" "$S/file-$n.sig"
		;;
	esac
	case $key in
	rsa2048) want=256 ;;
	rsa3072) want=384 ;;
	rsa4096) want=512 ;;
	ed25519) want=64 ;;
	*) want="" ;;
	esac
	[ -z "$want" ] ||
		assert_eq "$(stat -c %s "$S/file-$n.sig")" "$want" \
			"$key signature size"
done
# The padding checks above mean something only if the right padding verifies.
check "rsa2048 PSS signature verifies over the rebuilt PAE" \
	ossl_verify rsa-pss-sha256 "$K/rsa2048.pub.pem" "$T/sig.pae" "$S/file-3.sig"
check "rsa3072 PKCS#1 signature verifies over the rebuilt PAE" \
	ossl_verify rsa-pkcs1-sha256 "$K/rsa3072.pub.pem" "$T/sig.pae" \
	"$S/file-4.sig"

# ECDSA file keys sign deterministically (RFC 6979): the same manifest signed
# twice by one key is the same envelope, byte for byte; another key signs
# other bytes (another k), and both verify.
check "sign the same manifest twice" \
	otatool sign -q --key "$K/p256.pem" -o "$S/again.signed.json" "$M"
check_signature "signed twice" "$S/again.signed.json" 0 ecdsa-p256-sha256 \
	"$K/p256.pub.pem" "$M"
sig_bytes "$S/again.signed.json" 0 "$S/again.sig"
check "two ECDSA signatures of one manifest by one key are identical" \
	cmp "$S/again.sig" "$S/file-1.sig"
check "another P-256 key signs the manifest" \
	otatool sign -q --key "$K/p256b.pem" -o "$S/other-key.signed.json" "$M"
check_signature "another key" "$S/other-key.signed.json" 0 ecdsa-p256-sha256 \
	"$K/p256b.pub.pem" "$M"
sig_bytes "$S/other-key.signed.json" 0 "$S/other-key.sig"
! cmp -s "$S/other-key.sig" "$S/file-1.sig"
_assert $? "another key made the same ECDSA signature"

LAST_NAME="envelope format"
E=$S/file-1.signed.json
assert_json "$E" 'keys_unsorted' '["payloadType","payload","signatures"]'
assert_json "$E" '.payloadType' "$(q "$PAYLOAD_TYPE")"
assert_json "$E" '.signatures[0] | keys_unsorted' '["keyid","sig","algorithm"]'
assert_json "$E" '.payload | test("^[A-Za-z0-9+/]+=*$")' 'true'
jq . "$E" >"$T/envelope.jq"
assert_same_file "$E" "$T/envelope.jq"
assert_eq "$(sha "$M")" "$M_SHA" "the manifest is left as it was"

# Default output name, then adding signatures in place.
D=$T/default
mkdir -p "$D"
cp -r "$R/images" "$M" "$D/"
check "default output NAME.signed.json" otatool sign --key "$K/p256.pem" "$D/m.json"
assert_contains "$ERR" "$D/m.json -> $D/m.signed.json (1 signature)"
assert_same_file "$D/m.json" "$M"
check_signature "default output" "$D/m.signed.json" 0 ecdsa-p256-sha256 \
	"$K/p256.pub.pem" "$M"
jq -c '.signatures[0]' "$D/m.signed.json" >"$T/first.sig.json"

check "signing a .signed.json adds a signature in place" \
	otatool sign --key "$K/ed25519.pem" "$D/m.signed.json"
assert_contains "$ERR" "$D/m.signed.json -> $D/m.signed.json (2 signatures)"
assert_json "$D/m.signed.json" '.signatures | length' 2
assert_json "$D/m.signed.json" '.signatures[0]' "$(cat "$T/first.sig.json")"
check_signature "added in place" "$D/m.signed.json" 1 ed25519 \
	"$K/ed25519.pub.pem" "$M"
check_signature "first signature still good" "$D/m.signed.json" 0 \
	ecdsa-p256-sha256 "$K/p256.pub.pem" "$M"
assert_eq "$(find "$D" -maxdepth 1 -name '*.json' | wc -l)" 2 \
	"no other file beside the manifest"

before=$(sha "$D/m.signed.json")
expect_exit 3 "a key signs a manifest only once" \
	otatool sign --key "$K/p256.pem" "$D/m.signed.json"
assert_contains "$ERR" "already signed by key $(keyid_of "$K/p256.pub.pem")"
assert_eq "$(sha "$D/m.signed.json")" "$before" "signed manifest unchanged"
assert_no_temp "$D" m.signed.json

check "--json" otatool sign --json --key "$K/p384.pem" --key "$K/ed25519.pem" \
	-o "$S/json.signed.json" "$M"
assert_json "$OUT" 'length' 1
assert_json "$OUT" '.[0].input' "$(q "$M")"
assert_json "$OUT" '.[0].output' "$(q "$S/json.signed.json")"
assert_json "$OUT" '.[0].signatures' \
	"[{\"keyid\":\"$(keyid_of "$K/p384.pub.pem")\",\"algorithm\":\"ecdsa-p384-sha384\"},{\"keyid\":\"$(keyid_of "$K/ed25519.pub.pem")\",\"algorithm\":\"ed25519\"}]"
assert_not_contains "$ERR" "->"
check_signature "--json, first key" "$S/json.signed.json" 0 ecdsa-p384-sha384 \
	"$K/p384.pub.pem" "$M"
check_signature "--json, second key" "$S/json.signed.json" 1 ed25519 \
	"$K/ed25519.pub.pem" "$M"

check "-q" otatool sign -q --key "$K/rsa2048.pem" -o "$S/quiet.signed.json" "$M"
assert_empty "$OUT"
assert_empty "$ERR"
assert_exists "$S/quiet.signed.json"

MM=$T/multi
mkdir -p "$MM"
cp -r "$R/images" "$MM/"
cp "$M" "$MM/a.json"
cp "$R/other.json" "$MM/b.json"
check "two manifests, default outputs" \
	otatool sign --key "$K/p256.pem" "$MM/a.json" "$MM/b.json"
check_signature "first of two manifests" "$MM/a.signed.json" 0 \
	ecdsa-p256-sha256 "$K/p256.pub.pem" "$M"
check_signature "second of two manifests" "$MM/b.signed.json" 0 \
	ecdsa-p256-sha256 "$K/p256.pub.pem" "$R/other.json"

# ---------------------------------------------------------------- --cert

check "--cert with the matching certificate" \
	otatool sign --key "$K/p256.pem" --cert "$K/p256.crt" \
	-o "$S/cert.signed.json" "$M"
LAST_NAME="--cert embedded"
assert_json "$S/cert.signed.json" '.signatures[0].certificates | length' 1
jq -r '.signatures[0].certificates[0]' "$S/cert.signed.json" | base64 -d \
	>"$T/embedded.der"
openssl x509 -in "$K/p256.crt" -outform DER -out "$T/p256.crt.der"
assert_same_file "$T/embedded.der" "$T/p256.crt.der"
openssl x509 -in "$K/p256.crt" -pubkey -noout >"$T/p256.crt.pub"
check_signature "--cert signature, key from the certificate" \
	"$S/cert.signed.json" 0 ecdsa-p256-sha256 "$T/p256.crt.pub" "$M"
assert_json "$S/cert.signed.json" '.signatures[0] | keys_unsorted' \
	'["keyid","sig","algorithm","certificates"]'

expect_exit 7 "--cert of another key" \
	otatool sign --key "$K/p256.pem" --cert "$K/p256b.crt" \
	-o "$S/badcert.signed.json" "$M"
assert_contains "$ERR" "$K/p256b.crt"
assert_contains "$ERR" "does not match"
assert_not_exists "$S/badcert.signed.json"
assert_no_temp "$S" badcert.signed.json

# ---------------------------------------------------------------- token keys

H=$T/softhsm
make_token "$H" release

# SoftHSM 2.6.1 leaks an ASN1_STRING in every CKM_EDDSA C_SignInit (see
# tests/unit/test_pkcs11.c): under ASan, leaks allocated inside SoftHSM are
# not otatool's. The slow unwinder is needed to see SoftHSM's frames below
# libcrypto, which has no frame pointers; it triples the run time, so only
# commands that sign with a token Ed25519 key run under "${EDDSA[@]}".
EDDSA=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0")

p11() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label release "$@" \
		2>/dev/null
}

# p11_objects: CLASS TAB TYPE TAB LABEL TAB ID TAB EC_POINT per object.
p11_objects() {
	p11 --login --pin 1234 --list-objects | awk -v OFS='\t' '
		function flush() {
			if (cls != "")
				print cls, type, label, id, point
		}
		/ Object;/ {
			flush()
			cls = $1
			t = $0
			sub(/^[^;]*; */, "", t)
			split(t, w, " ")
			type = w[1]
			label = id = point = ""
			next
		}
		/^  label:/ { sub(/^  label: */, ""); label = $0; next }
		/^  ID:/ { id = $2; next }
		/^  EC_POINT:/ { point = $2; next }
		END { flush() }'
}

# p11_id LABEL: the CKA_ID of the private key LABEL, as pkcs11-tool shows it.
p11_id() {
	p11_objects | awk -F '\t' -v l="$1" '$1 == "Private" && $3 == l { print $4 }'
}

# p11_pub ID FILE: the public-key object ID, read by pkcs11-tool, as PEM.
# pkcs11-tool 0.23 cannot export P-384 keys ("cannot create EVP_PKEY"):
# then the SubjectPublicKeyInfo is built from the CKA_EC_POINT it lists.
p11_pub() {
	local point

	if p11 --read-object --type pubkey --id "$1" -o "$2.raw"; then
		openssl pkey -pubin -in "$2.raw" -out "$2"
		return
	fi
	point=$(p11_objects | awk -F '\t' -v id="$1" \
		'$1 == "Public" && $4 == id { print $5 }')
	# 04 61 <97-byte uncompressed point>: a P-384 point in an OCTET STRING.
	[[ $point =~ ^046104[0-9a-f]{192}$ ]] || return 1
	hex_to_file 3076301006072a8648ce3d020106052b81040022036200"${point:4}" \
		"$2.raw" &&
		openssl pkey -pubin -inform DER -in "$2.raw" -out "$2"
}

# Keys made by otatool, and by pkcs11-tool with the ids 42..45.
for spec in tk-p256:ecdsa-p256 tk-p384:ecdsa-p384 tk-rsa:rsa-2048 \
	tk-ed:ed25519; do
	otatool keys generate -q --type "${spec#*:}" \
		--key "pkcs11:token=release;object=${spec%%:*}" >/dev/null ||
		die "otatool keys generate ${spec#*:} in the token"
done
for spec in pt-p256:42:EC:prime256v1 pt-p384:43:EC:secp384r1 \
	pt-rsa:44:rsa:2048 pt-ed:45:EC:edwards25519; do
	IFS=: read -r label id ktype kparam <<<"$spec"
	p11 --login --pin 1234 --keypairgen --key-type "$ktype:$kparam" \
		--label "$label" --id "$id" >/dev/null ||
		die "pkcs11-tool --keypairgen $ktype:$kparam"
done

# LABEL ALGORITHM [OPTIONS...]
TOKEN_CASES=(
	"tk-p256 ecdsa-p256-sha256"
	"tk-p384 ecdsa-p384-sha384"
	"tk-rsa rsa-pss-sha256"
	"tk-rsa rsa-pkcs1-sha256 --rsa-padding pkcs1"
	"tk-ed ed25519"
	"pt-p256 ecdsa-p256-sha256"
	"pt-p384 ecdsa-p384-sha384"
	"pt-rsa rsa-pss-sha256"
	"pt-rsa rsa-pkcs1-sha256 --rsa-padding pkcs1"
	"pt-ed ed25519"
)
n=0
for c in "${TOKEN_CASES[@]}"; do
	read -r label alg opts <<<"$c"
	n=$((n + 1))
	uri="pkcs11:token=release;object=$label"
	if [ ! -e "$H/$label.p11.pem" ]; then
		LAST_NAME="$label: public key from pkcs11-tool"
		id=$(p11_id "$label")
		if [ -n "$id" ] && p11_pub "$id" "$H/$label.p11.pem"; then
			pass
		else
			fail "$LAST_NAME" "no public key for id '$id'"
		fi
		check "$label: export-public" \
			otatool keys export-public -o "$H/$label.ota.pem" "$uri"
		assert_same_file "$H/$label.ota.pem" "$H/$label.p11.pem"
	fi
	out=$S/token-$n.signed.json
	prefix=()
	[ "$alg" != ed25519 ] || prefix=("${EDDSA[@]}")
	# shellcheck disable=SC2086 # opts is a list
	check "sign with token key $label ($alg)" \
		"${prefix[@]}" otatool sign --key "$uri" $opts -o "$out" "$M"
	assert_contains "$ERR" "$M -> $out (1 signature)"
	check_signature "$label (pkcs11-tool's public key)" "$out" 0 "$alg" \
		"$H/$label.p11.pem" "$M"
	sig_bytes "$out" 0 "$T/tok.sig"
	check "$label: verifies with otatool's exported public key" \
		ossl_verify "$alg" "$H/$label.ota.pem" "$T/sig.pae" "$T/tok.sig"
done

check "sign with a token key by id" \
	otatool sign --key "pkcs11:token=release;id=%42" -o "$S/byid.signed.json" "$M"
check_signature "token key by id" "$S/byid.signed.json" 0 ecdsa-p256-sha256 \
	"$H/pt-p256.p11.pem" "$M"

# Key rotation: the old file key and the new token key sign together.
check "key rotation: a file key and a token key" \
	otatool sign --key "$K/p256.pem" --key "pkcs11:token=release;object=tk-rsa" \
	-o "$S/rotation.signed.json" "$M"
assert_contains "$ERR" "(2 signatures)"
assert_json "$S/rotation.signed.json" '[.signatures[].keyid]' \
	"[\"$(keyid_of "$K/p256.pub.pem")\",\"$(keyid_of "$H/tk-rsa.p11.pem")\"]"
check_signature "rotation, old key" "$S/rotation.signed.json" 0 \
	ecdsa-p256-sha256 "$K/p256.pub.pem" "$M"
check_signature "rotation, new key" "$S/rotation.signed.json" 1 \
	rsa-pss-sha256 "$H/tk-rsa.p11.pem" "$M"

check "two token keys and a file key" \
	"${EDDSA[@]}" otatool sign --key "pkcs11:token=release;object=tk-ed" \
	--key "pkcs11:token=release;object=pt-p384" --key "$K/rsa4096.pem" \
	-o "$S/three.signed.json" "$M"
check_signature "three keys, 0" "$S/three.signed.json" 0 ed25519 \
	"$H/tk-ed.p11.pem" "$M"
check_signature "three keys, 1" "$S/three.signed.json" 1 ecdsa-p384-sha384 \
	"$H/pt-p384.p11.pem" "$M"
check_signature "three keys, 2" "$S/three.signed.json" 2 rsa-pss-sha256 \
	"$K/rsa4096.pub.pem" "$M"

# Twenty manifests, one token: the PIN comes from a FIFO that is written
# once, so a second login (a second read) would block until the timeout.
B=$T/batch
mkdir -p "$B"
cp -r "$R/images" "$B/"
batch=()
for i in $(seq -w 1 20); do
	cp "$M" "$B/m$i.json"
	batch+=("$B/m$i.json")
done
mkfifo "$H/pin.fifo"
(printf '1234\n' >"$H/pin.fifo") &
writer=$!
check "20 manifests with one token login" \
	env -u OTATOOL_PKCS11_PIN timeout 30 otatool sign \
	--key "pkcs11:token=release;object=tk-p256?pin-source=$H/pin.fifo" \
	"${batch[@]}"
{
	kill "$writer"
	wait "$writer"
} 2>/dev/null
assert_eq "$(grep -c ' (1 signature)$' "$ERR")" 20 "20 manifests signed"
assert_eq "$(find "$B" -name 'm*.signed.json' | wc -l)" 20 "20 signed manifests"
for i in $(seq -w 1 20); do
	assert_json "$B/m$i.signed.json" '[.signatures[].keyid]' \
		"[\"$(keyid_of "$H/tk-p256.p11.pem")\"]"
done
check_signature "batch, first" "$B/m01.signed.json" 0 ecdsa-p256-sha256 \
	"$H/tk-p256.p11.pem" "$M"
check_signature "batch, last" "$B/m20.signed.json" 0 ecdsa-p256-sha256 \
	"$H/tk-p256.p11.pem" "$M"

# ---------------------------------------------------------------- two-step

X=$T/twostep
mkdir -p "$X"
make_pae "$M" "$X/pae.expected"
make_pae "$R/other.json" "$X/other.pae"

check "--export-payload" \
	otatool sign --key "$K/p256.pub.pem" --export-payload "$X/payload.bin" "$M"
assert_same_file "$X/payload.bin" "$X/pae.expected"
assert_contains "$ERR" "--import-signature"
assert_not_exists "$R/m.signed.json"

check "--export-digest (P-256)" \
	otatool sign --key "$K/p256.pub.pem" --export-digest "$X/d256.bin" "$M"
openssl dgst -sha256 -binary "$X/pae.expected" >"$X/d256.expected"
assert_same_file "$X/d256.bin" "$X/d256.expected"
assert_eq "$(stat -c %s "$X/d256.bin")" 32 "SHA-256 digest size"
assert_not_exists "$R/m.signed.json"

check "--export-digest (P-384)" \
	otatool sign --key "$K/p384.pub.pem" --export-digest "$X/d384.bin" "$M"
openssl dgst -sha384 -binary "$X/pae.expected" >"$X/d384.expected"
assert_same_file "$X/d384.bin" "$X/d384.expected"
assert_eq "$(stat -c %s "$X/d384.bin")" 48 "SHA-384 digest size"

check "--export-digest with --algorithm and no key" \
	otatool sign --algorithm rsa-pss-sha256 --export-digest "$X/dalg.bin" "$M"
assert_same_file "$X/dalg.bin" "$X/d256.expected"

check "--export-digest from a certificate" \
	otatool sign --key "$K/p256.crt" --export-digest "$X/dcrt.bin" "$M"
assert_same_file "$X/dcrt.bin" "$X/d256.expected"

check "--export-digest of a token key" \
	otatool sign --key "pkcs11:token=release;object=pt-p384" \
	--export-digest "$X/dtok384.bin" "$M"
assert_same_file "$X/dtok384.bin" "$X/d384.expected"

expect_exit 2 "--export-digest with an Ed25519 key" \
	otatool sign --key "$K/ed25519.pub.pem" --export-digest "$X/ded.bin" "$M"
assert_contains "$ERR" "--export-payload"
assert_contains "$ERR" "ed25519"
assert_not_exists "$X/ded.bin"
assert_no_temp "$X" ded.bin

expect_exit 2 "--export-digest with --algorithm ed25519" \
	otatool sign --algorithm ed25519 --export-digest "$X/ded.bin" "$M"
assert_contains "$ERR" "--export-payload"
assert_not_exists "$X/ded.bin"

# import_ok NAME SIGFILE ALG PUB OUT [OPTIONS...]: imports SIGFILE made for
# $M with --key PUB into OUT and checks the result with openssl.
import_ok() {
	local name=$1 sigfile=$2 alg=$3 pub=$4 out=$5

	shift 5
	check "import: $name" otatool sign --key "$pub" \
		--import-signature "$sigfile" "$@" -o "$out" "$M"
	assert_contains "$ERR" "$sigfile -> $out (signature verified)"
	assert_json "$out" '.signatures | length' 1
	check_signature "import: $name" "$out" 0 "$alg" "$pub" "$M"
}

openssl pkeyutl -sign -inkey "$K/p256.pem" -in "$X/d256.bin" \
	-out "$X/p256.der" || die "openssl pkeyutl -sign (P-256)"
import_ok "ECDSA P-256 DER from openssl pkeyutl" "$X/p256.der" \
	ecdsa-p256-sha256 "$K/p256.pub.pem" "$X/i-p256.json"
sig_bytes "$X/i-p256.json" 0 "$X/p256.stored"
assert_same_file "$X/p256.stored" "$X/p256.der"

base64 "$X/p256.der" >"$X/p256.b64"
import_ok "ECDSA P-256 DER as base64" "$X/p256.b64" ecdsa-p256-sha256 \
	"$K/p256.pub.pem" "$X/i-p256b64.json"
sig_bytes "$X/i-p256b64.json" 0 "$X/p256b64.stored"
assert_same_file "$X/p256b64.stored" "$X/p256.der"

openssl pkeyutl -sign -inkey "$K/p384.pem" -in "$X/d384.bin" \
	-out "$X/p384.der" || die "openssl pkeyutl -sign (P-384)"
import_ok "ECDSA P-384 from openssl pkeyutl" "$X/p384.der" \
	ecdsa-p384-sha384 "$K/p384.pub.pem" "$X/i-p384.json"

check "--export-payload (Ed25519)" \
	otatool sign --key "$K/ed25519.pub.pem" --export-payload "$X/payload-ed.bin" \
	"$M"
assert_same_file "$X/payload-ed.bin" "$X/pae.expected"
assert_contains "$ERR" "with ed25519"
openssl pkeyutl -sign -inkey "$K/ed25519.pem" -rawin -in "$X/payload-ed.bin" \
	-out "$X/ed.sig" || die "openssl pkeyutl -sign (Ed25519)"
import_ok "Ed25519 from openssl pkeyutl -rawin" "$X/ed.sig" ed25519 \
	"$K/ed25519.pub.pem" "$X/i-ed.json"
base64 -w0 "$X/ed.sig" >"$X/ed.b64"
import_ok "Ed25519 as base64" "$X/ed.b64" ed25519 "$K/ed25519.pub.pem" \
	"$X/i-edb64.json"

openssl dgst -sha256 -sign "$K/rsa2048.pem" -sigopt rsa_padding_mode:pss \
	-sigopt rsa_pss_saltlen:32 -out "$X/pss.sig" "$X/payload.bin" ||
	die "openssl dgst -sign (PSS)"
import_ok "RSA-PSS from openssl dgst" "$X/pss.sig" rsa-pss-sha256 \
	"$K/rsa2048.pub.pem" "$X/i-pss.json"

openssl dgst -sha256 -sign "$K/rsa3072.pem" -out "$X/pkcs1.sig" \
	"$X/payload.bin" || die "openssl dgst -sign (PKCS#1)"
import_ok "RSA PKCS#1 v1.5 from openssl dgst" "$X/pkcs1.sig" \
	rsa-pkcs1-sha256 "$K/rsa3072.pub.pem" "$X/i-pkcs1.json" \
	--rsa-padding pkcs1
import_ok "RSA PKCS#1 v1.5 with --algorithm" "$X/pkcs1.sig" \
	rsa-pkcs1-sha256 "$K/rsa3072.pub.pem" "$X/i-pkcs1alg.json" \
	--algorithm rsa-pkcs1-sha256

openssl dgst -sha256 -sign "$K/p256.pem" -out "$X/p256dgst.der" \
	"$X/payload.bin" || die "openssl dgst -sign (P-256)"
import_ok "ECDSA P-256 from openssl dgst over the payload" "$X/p256dgst.der" \
	ecdsa-p256-sha256 "$K/p256.pub.pem" "$X/i-p256dgst.json"

# pkcs11-tool: CKM_ECDSA gives raw r||s; otatool must store DER.
p11 --login --pin 1234 --sign --mechanism ECDSA --id 42 -i "$X/d256.bin" \
	-o "$X/tok256.raw" >/dev/null || die "pkcs11-tool --sign ECDSA"
assert_eq "$(stat -c %s "$X/tok256.raw")" 64 "pkcs11-tool P-256 r||s size"
import_ok "pkcs11-tool ECDSA P-256, raw r||s" "$X/tok256.raw" \
	ecdsa-p256-sha256 "$H/pt-p256.p11.pem" "$X/i-tok256.json"
base64 "$X/tok256.raw" >"$X/tok256.b64"
import_ok "pkcs11-tool ECDSA P-256, raw r||s as base64" "$X/tok256.b64" \
	ecdsa-p256-sha256 "$H/pt-p256.p11.pem" "$X/i-tok256b64.json"
check "import with --key the token's pkcs11: URI" \
	otatool sign --key "pkcs11:token=release;object=pt-p256" \
	--import-signature "$X/tok256.raw" -o "$X/i-tokuri.json" "$M"
check_signature "import with a pkcs11: URI" "$X/i-tokuri.json" 0 \
	ecdsa-p256-sha256 "$H/pt-p256.p11.pem" "$M"

p11 --login --pin 1234 --sign --mechanism ECDSA --id 43 -i "$X/d384.bin" \
	-o "$X/tok384.raw" >/dev/null || die "pkcs11-tool --sign ECDSA P-384"
assert_eq "$(stat -c %s "$X/tok384.raw")" 96 "pkcs11-tool P-384 r||s size"
import_ok "pkcs11-tool ECDSA P-384, raw r||s" "$X/tok384.raw" \
	ecdsa-p384-sha384 "$H/pt-p384.p11.pem" "$X/i-tok384.json"

p11 --login --pin 1234 --sign --mechanism RSA-PKCS-PSS --hash-algorithm SHA256 \
	--mgf MGF1-SHA256 --salt-len 32 --id 44 -i "$X/d256.bin" \
	-o "$X/tokpss.sig" >/dev/null || die "pkcs11-tool --sign RSA-PKCS-PSS"
import_ok "pkcs11-tool RSA-PKCS-PSS over the digest" "$X/tokpss.sig" \
	rsa-pss-sha256 "$H/pt-rsa.p11.pem" "$X/i-tokpss.json"

p11 --login --pin 1234 --sign --mechanism SHA256-RSA-PKCS-PSS \
	--mgf MGF1-SHA256 --salt-len 32 --id 44 -i "$X/payload.bin" \
	-o "$X/tokpss2.sig" >/dev/null || die "pkcs11-tool --sign SHA256-RSA-PKCS-PSS"
import_ok "pkcs11-tool SHA256-RSA-PKCS-PSS over the payload" "$X/tokpss2.sig" \
	rsa-pss-sha256 "$H/pt-rsa.p11.pem" "$X/i-tokpss2.json"

# A signature added to a signed manifest, in place, with a certificate.
cp "$X/i-ed.json" "$X/two.signed.json"
jq -c '.signatures[0]' "$X/two.signed.json" >"$X/two.first"
check "import into a signed manifest, with --cert" \
	otatool sign --key "$K/p256.pub.pem" --cert "$K/p256.crt" \
	--import-signature "$X/p256.der" "$X/two.signed.json"
assert_contains "$ERR" "-> $X/two.signed.json (signature verified)"
assert_json "$X/two.signed.json" '.signatures | length' 2
assert_json "$X/two.signed.json" '.signatures[0]' "$(cat "$X/two.first")"
check_signature "imported in place" "$X/two.signed.json" 1 \
	ecdsa-p256-sha256 "$K/p256.pub.pem" "$M"
jq -r '.signatures[1].certificates[0]' "$X/two.signed.json" | base64 -d \
	>"$X/two.crt.der"
assert_same_file "$X/two.crt.der" "$T/p256.crt.der"

check "import: --key is the signer's certificate" \
	otatool sign --key "$K/p256.crt" --import-signature "$X/p256.der" \
	-o "$X/i-bycert.json" "$M"
check_signature "import: --key is the signer's certificate" \
	"$X/i-bycert.json" 0 ecdsa-p256-sha256 "$K/p256.pub.pem" "$M"

# Refusals: exit 5, the reason named, and nothing written anywhere.
# import_refused NAME SIGFILE PUB [OPTIONS...]
import_refused() {
	local name=$1 sigfile=$2 pub=$3 before

	shift 3
	rm -f "$X/refused.json"
	expect_exit 5 "import refused: $name" otatool sign --key "$pub" \
		--import-signature "$sigfile" "$@" -o "$X/refused.json" "$M"
	assert_contains "$ERR" "$sigfile"
	assert_contains "$ERR" "nothing written"
	assert_empty "$OUT"
	assert_not_exists "$X/refused.json"
	assert_no_temp "$X" refused.json
	# The same into a signed manifest in place: left as it was.
	before=$(sha "$X/two.signed.json")
	expect_exit 5 "import refused in place: $name" otatool sign \
		--key "$pub" --import-signature "$sigfile" "$@" \
		"$X/two.signed.json"
	assert_eq "$(sha "$X/two.signed.json")" "$before" \
		"$name: signed manifest unchanged"
	assert_no_temp "$X" two.signed.json
}

import_refused "ECDSA signature by another key" "$X/p256.der" \
	"$K/p256b.pub.pem"
import_refused "raw r||s by another key, --key a certificate" \
	"$X/tok256.raw" "$K/p256.crt"

# corrupt IN OUT: one bit of the last byte flipped (a DER ECDSA signature
# stays DER, sizes stay the same: only verification can catch it).
corrupt() {
	local size last

	size=$(stat -c %s "$1")
	last=$(tail -c 1 "$1" | od -An -tu1 | tr -d ' ')
	head -c $((size - 1)) "$1" >"$2"
	hex_to_file "$(printf %02x $((last ^ 1)))" "$2.last"
	cat "$2.last" >>"$2"
	if [ "$(stat -c %s "$2")" != "$size" ] || cmp -s "$1" "$2"; then
		die "corrupt $1"
	fi
}
corrupt "$X/p256.der" "$X/p256.bad"
check "the corrupted ECDSA signature is still DER" \
	openssl asn1parse -inform DER -in "$X/p256.bad"
import_refused "corrupted ECDSA signature" "$X/p256.bad" "$K/p256.pub.pem"
corrupt "$X/ed.sig" "$X/ed.bad"
import_refused "corrupted Ed25519 signature" "$X/ed.bad" "$K/ed25519.pub.pem"
corrupt "$X/pss.sig" "$X/pss.bad"
import_refused "corrupted RSA-PSS signature" "$X/pss.bad" "$K/rsa2048.pub.pem"
corrupt "$X/tok256.raw" "$X/tok256.bad"
import_refused "corrupted raw r||s" "$X/tok256.bad" "$H/pt-p256.p11.pem"

openssl dgst -sha256 -sign "$K/p256.pem" -out "$X/other.der" "$X/other.pae"
import_refused "signature of another manifest" "$X/other.der" \
	"$K/p256.pub.pem"
openssl pkeyutl -sign -inkey "$K/ed25519.pem" -rawin -in "$X/other.pae" \
	-out "$X/other-ed.sig"
import_refused "Ed25519 signature of another manifest" "$X/other-ed.sig" \
	"$K/ed25519.pub.pem"
import_refused "PKCS#1 signature where PSS is expected" "$X/pkcs1.sig" \
	"$K/rsa3072.pub.pem"

printf 'not a signature' >"$X/garbage.sig"
rm -f "$X/refused.json"
expect_exit 3 "import of a file that is no signature" \
	otatool sign --key "$K/p256.pub.pem" --import-signature "$X/garbage.sig" \
	-o "$X/refused.json" "$M"
assert_contains "$ERR" "$X/garbage.sig"
assert_not_exists "$X/refused.json"

expect_exit 2 "--import-signature without --key" \
	otatool sign --import-signature "$X/p256.der" -o "$X/refused.json" "$M"
assert_contains "$ERR" "--key"
assert_not_exists "$X/refused.json"

expect_exit 2 "--export-digest and --import-signature together" \
	otatool sign --key "$K/p256.pub.pem" --export-digest "$X/d.bin" \
	--import-signature "$X/p256.der" "$M"
assert_not_exists "$X/d.bin"

# ---------------------------------------------------------------- bad input

BAD=$T/bad
mkdir -p "$BAD"

# expect_fail CODE NAME WANT... -- CMD...: CMD would write $BAD/out.json.
expect_fail() {
	local code=$1 name=$2 w
	local -a want=()

	shift 2
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		want+=("$1")
		shift
	done
	shift
	rm -f "$BAD/out.json"
	expect_exit "$code" "$name" "$@"
	for w in "${want[@]}"; do
		assert_contains "$ERR" "$w"
	done
	assert_eq "$(grep -c '^otatool: sign: ' "$ERR")" 1 "$name: one error line"
	assert_empty "$OUT"
	assert_not_exists "$BAD/out.json"
	assert_no_temp "$BAD" out.json
}

# bad_key CODE NAME KEY WANT...: signing $M with KEY fails so.
bad_key() {
	local code=$1 name=$2 key=$3

	shift 3
	expect_fail "$code" "$name" "$@" -- \
		otatool sign --key "$key" -o "$BAD/out.json" "$M"
}

expect_fail 7 "wrong PIN" CKR_PIN_INCORRECT "'release'" -- \
	env OTATOOL_PKCS11_PIN=98765123 otatool sign \
	--key "pkcs11:token=release;object=tk-p256" -o "$BAD/out.json" "$M"
assert_not_contains "$ERR" 98765123
assert_not_contains "$OUT" 98765123

expect_fail 7 "no PIN and no terminal" "no PIN" OTATOOL_PKCS11_PIN -- \
	setsid -w env -u OTATOOL_PKCS11_PIN otatool sign \
	--key "pkcs11:token=release;object=tk-p256" -o "$BAD/out.json" "$M"

expect_fail 7 "missing module (--pkcs11-module)" "$BAD/nope/libnope.so" -- \
	otatool sign --pkcs11-module "$BAD/nope/libnope.so" \
	--key "pkcs11:token=release;object=tk-p256" -o "$BAD/out.json" "$M"

expect_fail 7 "missing module (OTATOOL_PKCS11_MODULE)" "$BAD/nope/libnope.so" -- \
	env OTATOOL_PKCS11_MODULE="$BAD/nope/libnope.so" otatool sign \
	--key "pkcs11:token=release;object=tk-p256" -o "$BAD/out.json" "$M"

expect_fail 7 "missing module (module-path in the URI)" "$BAD/nope/libnope.so" -- \
	otatool sign \
	--key "pkcs11:token=release;object=tk-p256?module-path=$BAD/nope/libnope.so" \
	-o "$BAD/out.json" "$M"

LIBZ=""
for f in /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1 \
	/usr/lib/aarch64-linux-gnu/libz.so.1 /usr/lib64/libz.so.1 \
	/usr/lib/libz.so.1; do
	if [ -f "$f" ]; then
		LIBZ=$f
		break
	fi
done
if [ -n "$LIBZ" ]; then
	expect_fail 7 "a module that is not PKCS#11" "$LIBZ" \
		"not a PKCS#11 module" -- \
		otatool sign --pkcs11-module "$LIBZ" \
		--key "pkcs11:token=release;object=tk-p256" -o "$BAD/out.json" "$M"
else
	skip "a module that is not PKCS#11" "no libz.so.1 found"
fi

expect_fail 7 "unknown token" "token=nosuch" "no token matches" "'release'" -- \
	otatool sign --key "pkcs11:token=nosuch;object=tk-p256" \
	-o "$BAD/out.json" "$M"

expect_fail 7 "unknown object" "object=nosuch" "no object matches" -- \
	otatool sign --key "pkcs11:token=release;object=nosuch" \
	-o "$BAD/out.json" "$M"

expect_fail 7 "a public-key URI where a private key is needed" \
	"type=public" "is a public key, not a private key" -- \
	otatool sign --key "pkcs11:token=release;object=tk-p256;type=public" \
	-o "$BAD/out.json" "$M"

expect_fail 7 "a file key and an unknown token key: nothing signed" \
	"object=nosuch" -- \
	otatool sign --key "$K/p256.pem" \
	--key "pkcs11:token=release;object=nosuch" -o "$BAD/out.json" "$M"

expect_fail 2 "pin-value in the URI on the command line" "pin-value" \
	"pin-source" -- \
	otatool sign --key "pkcs11:token=release;object=tk-p256?pin-value=55501234" \
	-o "$BAD/out.json" "$M"
assert_not_contains "$ERR" 55501234

expect_fail 2 "pin-value as a path attribute" "pin-value" -- \
	otatool sign --key "pkcs11:token=release;object=tk-p256;pin-value=55501234" \
	-o "$BAD/out.json" "$M"
assert_not_contains "$ERR" 55501234

printf '1234\n' >"$H/pin.txt"
chmod 600 "$H/pin.txt"
check "pin-source file" \
	"${EDDSA[@]}" setsid -w env -u OTATOOL_PKCS11_PIN otatool sign \
	--key "pkcs11:token=release;object=tk-ed?pin-source=$H/pin.txt" \
	-o "$S/pinsrc.signed.json" "$M"
check_signature "pin-source file" "$S/pinsrc.signed.json" 0 ed25519 \
	"$H/tk-ed.p11.pem" "$M"
check "pin-source file: URI" \
	"${EDDSA[@]}" setsid -w env -u OTATOOL_PKCS11_PIN otatool sign \
	--key "pkcs11:token=release;object=tk-ed?pin-source=file:$H/pin.txt" \
	-o "$S/pinsrc2.signed.json" "$M"
assert_json "$S/pinsrc2.signed.json" '.signatures[0].keyid' \
	"$(q "$(keyid_of "$H/tk-ed.p11.pem")")"

# Encrypted key files.
expect_fail 7 "encrypted key without a passphrase" "$K/enc.pem" "passphrase" -- \
	setsid -w env -u OTATOOL_KEY_PASSPHRASE otatool sign \
	--key "$K/enc.pem" -o "$BAD/out.json" "$M"
assert_eq "$(grep -o 'key is encrypted' "$ERR" | wc -l)" 1 \
	"the reason is given once"
assert_contains "$ERR" "OTATOOL_KEY_PASSPHRASE"

check "encrypted key, OTATOOL_KEY_PASSPHRASE" \
	env OTATOOL_KEY_PASSPHRASE=secret otatool sign --key "$K/enc.pem" \
	-o "$S/enc1.signed.json" "$M"
check_signature "encrypted key (environment)" "$S/enc1.signed.json" 0 \
	ecdsa-p256-sha256 "$K/enc.pub.pem" "$M"

printf 'secret\n' >"$K/pass.txt"
check "encrypted key, --passphrase-file" \
	setsid -w env -u OTATOOL_KEY_PASSPHRASE otatool sign --key "$K/enc.pem" \
	--passphrase-file "$K/pass.txt" -o "$S/enc2.signed.json" "$M"
check_signature "encrypted key (file)" "$S/enc2.signed.json" 0 \
	ecdsa-p256-sha256 "$K/enc.pub.pem" "$M"

expect_fail 7 "encrypted key, wrong passphrase" "$K/enc.pem" \
	"wrong passphrase" -- \
	env OTATOOL_KEY_PASSPHRASE=notthe5ecret otatool sign --key "$K/enc.pem" \
	-o "$BAD/out.json" "$M"
assert_not_contains "$ERR" notthe5ecret

printf 'notthe5ecret\n' >"$K/wrong.txt"
expect_fail 7 "encrypted key, wrong --passphrase-file" "$K/enc.pem" \
	"wrong passphrase" -- \
	setsid -w env -u OTATOOL_KEY_PASSPHRASE otatool sign --key "$K/enc.pem" \
	--passphrase-file "$K/wrong.txt" -o "$BAD/out.json" "$M"
assert_not_contains "$ERR" notthe5ecret

# Keys that cannot sign.
bad_key 7 "a public key as --key" "$K/p256.pub.pem" "$K/p256.pub.pem" \
	"public key"
bad_key 7 "a certificate as --key" "$K/p256.crt" "$K/p256.crt" "certificate"
head -c 100 "$K/rsa2048.pem" >"$K/truncated.pem"
bad_key 7 "a truncated key file" "$K/truncated.pem" "$K/truncated.pem"
bad_key 7 "a nonexistent key file" "$K/nope.pem" "$K/nope.pem"
bad_key 7 "a P-521 key" "$K/p521.pem" "$K/p521.pem" "unsupported curve"
bad_key 7 "an RSA-1024 key" "$K/rsa1024.pem" "$K/rsa1024.pem" "1024"

# Manifests that must not be signed.
sed 's/"security_counter": 7,/"security_counter":7,/' "$M" >"$R/edited.json"
cmp -s "$M" "$R/edited.json" && die "edit did not change the manifest"
expect_fail 3 "a manifest edited by hand" "$R/edited.json" "canonical" -- \
	otatool sign --key "$K/p256.pem" -o "$BAD/out.json" "$R/edited.json"
expect_fail 3 "a manifest edited by hand (default output)" \
	"$R/edited.json" -- \
	otatool sign --key "$K/p256.pem" "$R/edited.json"
assert_not_exists "$R/edited.signed.json"

CH=$T/changed
mkdir -p "$CH"
cp -r "$R/images" "$M" "$CH/"
printf 'x' >>"$CH/images/app.bin"
expect_fail 5 "an image grew after the manifest was made" "images/app.bin" -- \
	otatool sign --key "$K/p256.pem" -o "$BAD/out.json" "$CH/m.json"
cp "$R/images/app.bin" "$CH/images/app.bin"
printf 'X' | dd of="$CH/images/app.bin" bs=1 seek=1000 conv=notrunc 2>/dev/null
cmp -s "$R/images/app.bin" "$CH/images/app.bin" && die "image not changed"
expect_fail 5 "an image changed, same size" "images/app.bin" -- \
	otatool sign --key "$K/p256.pem" -o "$BAD/out.json" "$CH/m.json"
expect_fail 5 "an image changed: no two-step export either" "images/app.bin" -- \
	otatool sign --key "$K/p256.pub.pem" --export-digest "$BAD/out.json" \
	"$CH/m.json"
check "--no-image-check signs anyway" \
	otatool sign --no-image-check --key "$K/p256.pem" \
	-o "$S/noimg.signed.json" "$CH/m.json"
check_signature "--no-image-check" "$S/noimg.signed.json" 0 \
	ecdsa-p256-sha256 "$K/p256.pub.pem" "$M"

expect_fail 3 "a nonexistent manifest" "$R/nope.json" -- \
	otatool sign --key "$K/p256.pem" -o "$BAD/out.json" "$R/nope.json"
printf '{"format": ' >"$R/broken.json"
expect_fail 3 "a manifest that is not JSON" "$R/broken.json" -- \
	otatool sign --key "$K/p256.pem" -o "$BAD/out.json" "$R/broken.json"

# Command-line errors.
expect_fail 2 "unknown option" "--bogus" -- \
	otatool sign --bogus --key "$K/p256.pem" -o "$BAD/out.json" "$M"
expect_fail 2 "--output with two manifests" "--output" -- \
	otatool sign --key "$K/p256.pem" -o "$BAD/out.json" "$M" "$R/other.json"
assert_not_exists "$R/m.signed.json"
assert_not_exists "$R/other.signed.json"
expect_fail 2 "no --key" "--key" -- otatool sign -o "$BAD/out.json" "$M"
expect_fail 2 "--rsa-padding oaep" "oaep" -- \
	otatool sign --key "$K/rsa2048.pem" --rsa-padding oaep \
	-o "$BAD/out.json" "$M"
expect_fail 2 "no manifest" "no manifest" -- \
	otatool sign --key "$K/p256.pem" -o "$BAD/out.json"

finish
