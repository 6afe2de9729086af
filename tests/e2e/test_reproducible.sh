# End-to-end tests of reproducible output with ECDSA file keys: RFC 6979
# makes k from the key and the digest, so with SOURCE_DATE_EPOCH two runs of
# `package` (otatool packages and --format mcuboot) and of `sign` (DSSE
# envelopes) give byte-identical files (cmp), whose signatures openssl
# verifies; another key or another message gives another r, so another k. A
# token's ECDSA key chooses k itself: its rebuilds differ in the signature
# entry only, and otatool diff says they carry the same signed content.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl python3 cmp jq base64

# ---------------------------------------------------------------- helpers

# genkey NAME OPENSSL-GENPKEY-ARGS...: $K/NAME.pem and $K/NAME.pub.pem,
# made by openssl, not by otatool.
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

u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
u16() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' '; }

# pkg_sig PKG DGST H SIG: H, the DGST of the signed region [0, 64 + P), and
# the first signature, as otatool-package(5) VERIFYING WITH OPENSSL says.
pkg_sig() {
	local p e

	p=$(u32 "$1" 16)
	head -c $((64 + p)) "$1" | openssl dgst "-$2" -binary >"$3"
	e=$((64 + p + 4))
	dd if="$1" of="$4" bs=1 skip=$((e + 40)) count="$(u16 "$1" $((e + 2)))" \
		status=none
}

# mcu_sig IMG DGST H SIG: the image hash over [0, hdr + img + protected) and
# the ECDSA signature TLV (0x22), from the layout in otatool-mcuboot(5).
mcu_sig() {
	python3 - "$@" <<'EOF'
import hashlib, struct, sys
img, dgst, hout, sout = sys.argv[1:5]
b = open(img, 'rb').read()
hdr, prot, size = struct.unpack_from('<HHI', b, 8)
end = hdr + size + prot
open(hout, 'wb').write(hashlib.new(dgst, b[:end]).digest())
magic, total = struct.unpack_from('<HH', b, end)
assert magic == 0x6907, hex(magic)
pos = end + 4
while pos < end + total:
    t, n = struct.unpack_from('<HH', b, pos)
    if t == 0x22:
        open(sout, 'wb').write(b[pos + 4:pos + 4 + n])
        sys.exit(0)
    pos += 4 + n
sys.exit('no ECDSA signature TLV')
EOF
}

# env_sig ENVELOPE PAE SIG: the DSSE pre-authentication encoding of the
# payload (otatool-signature(5)) and the first signature's bytes.
env_sig() {
	local type

	type=$(jq -r .payloadType "$1")
	jq -r .payload "$1" | base64 -d >"$2.payload"
	printf 'DSSEv1 %d %s %d ' "${#type}" "$type" \
		"$(stat -c %s "$2.payload")" >"$2"
	cat "$2.payload" >>"$2"
	jq -r '.signatures[0].sig' "$1" | base64 -d >"$3"
}

# r_of SIG: the r of a DER ECDSA-Sig-Value, by openssl asn1parse.
r_of() {
	openssl asn1parse -inform DER -in "$1" |
		awk '/INTEGER/ { sub(/.*:/, ""); print; exit }'
}

# verified NAME PUB DATA SIG [DGST]: openssl verifies the ECDSA signature
# SIG, of the digest DATA (pkeyutl) or, with DGST, of the message DATA.
verified() {
	local name=$1 pub=$2 data=$3 sig=$4 dgst=${5:-}

	if [ -n "$dgst" ]; then
		check "$name: openssl dgst verifies" openssl dgst "-$dgst" \
			-verify "$pub" -signature "$sig" "$data"
		assert_contains "$OUT" "Verified OK"
	else
		check "$name: openssl pkeyutl verifies" openssl pkeyutl -verify \
			-pubin -inkey "$pub" -in "$data" -sigfile "$sig"
		assert_contains "$OUT" "Signature Verified Successfully"
	fi
}

# ---------------------------------------------------------------- fixtures

D=$T/rel
mkdir -p "$D/images"
head -c 7000 /dev/urandom >"$D/images/app.bin"
cat >"$D/release.yaml" <<'YAML'
name: fw
version: 2.0.0
hardware: [hw-a]
security_counter: 7
images:
  - name: app
    file: images/app.bin
    kind: application
    load_address: 0x08020000
YAML
sed 's/^version: 2.0.0$/version: 2.0.1/' "$D/release.yaml" >"$D/next.yaml"
make_git_repo "$D"
genkey p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey p256b -algorithm EC -pkeyopt ec_paramgen_curve:P-256
genkey p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384

export SOURCE_DATE_EPOCH=1764000000
O=$T/out
mkdir -p "$O"

# ------------------------------------------------------ otatool packages

pkg() { # OUT KEY [OPTIONS...] [RELEASE]
	local out=$1 key=$2
	shift 2
	in_dir "$D" otatool package -q --key "$key" -o "$out" "$@"
}
for c in "p256 sha256" "p384 sha384"; do
	read -r key dgst <<<"$c"
	check "$key: package" pkg "$O/$key-1.otapkg" "$K/$key.pem" release.yaml
	sleep 1 # the clock moves on; the signing time is SOURCE_DATE_EPOCH's
	check "$key: package again" pkg "$O/$key-2.otapkg" "$K/$key.pem" \
		release.yaml
	check "$key: the two packages are byte-identical (cmp)" \
		cmp "$O/$key-1.otapkg" "$O/$key-2.otapkg"
	pkg_sig "$O/$key-1.otapkg" "$dgst" "$O/$key.H" "$O/$key.sig"
	verified "$key package" "$K/$key.pub.pem" "$O/$key.H" "$O/$key.sig"
	flip_byte "$O/$key.H" 7
	expect_exit 1 "$key package: openssl rejects it over another H" \
		openssl pkeyutl -verify -pubin -inkey "$K/$key.pub.pem" \
		-in "$O/$key.H" -sigfile "$O/$key.sig"
	check "$key: otatool verify" otatool verify -q \
		--trust-key "$K/$key.pub.pem" "$O/$key-1.otapkg"
done

# Another key over the same content: another signature, another r.
check "p256b: package" pkg "$O/p256b.otapkg" "$K/p256b.pem" release.yaml
! cmp -s "$O/p256-1.otapkg" "$O/p256b.otapkg"
_assert $? "another key made the same package"
pkg_sig "$O/p256b.otapkg" sha256 "$O/p256b.H" "$O/p256b.sig"
verified "p256b package" "$K/p256b.pub.pem" "$O/p256b.H" "$O/p256b.sig"
pkg_sig "$O/p256-1.otapkg" sha256 "$O/p256.H" "$O/p256.sig"
assert_same_file "$O/p256.H" "$O/p256b.H"
r1=$(r_of "$O/p256.sig")
r2=$(r_of "$O/p256b.sig")
[ -n "$r1" ] && [ "$r1" != "$r2" ]
_assert $? "another key, same H: r should differ ($r1, $r2)"
check "diff: another key, the same signed content" \
	otatool diff "$O/p256-1.otapkg" "$O/p256b.otapkg"
assert_contains "$OUT" "the same signed content (otatool package)"

# Another message (the next version) by the same key: another r.
check "p256: package the next version" pkg "$O/next.otapkg" "$K/p256.pem" \
	next.yaml
pkg_sig "$O/next.otapkg" sha256 "$O/next.H" "$O/next.sig"
verified "next version" "$K/p256.pub.pem" "$O/next.H" "$O/next.sig"
r3=$(r_of "$O/next.sig")
[ -n "$r3" ] && [ "$r3" != "$r1" ]
_assert $? "another message, same key: r should differ ($r1, $r3)"

# Without SOURCE_DATE_EPOCH the signing time is the clock's, so rebuilds a
# second apart differ; the signature changes with it, deterministically.
(
	unset SOURCE_DATE_EPOCH
	pkg "$O/now-1.otapkg" "$K/p256.pem" release.yaml &&
		sleep 1 &&
		pkg "$O/now-2.otapkg" "$K/p256.pem" release.yaml
) || die "package without SOURCE_DATE_EPOCH"
! cmp -s "$O/now-1.otapkg" "$O/now-2.otapkg"
_assert $? "packages signed a second apart should differ (signing time)"

# -------------------------------------------------------- MCUboot images

# shellcheck disable=SC2317 # called through check
mcu() { # OUT KEY
	in_dir "$D" otatool package -q --format mcuboot --key "$2" \
		--image app -o "$1" release.yaml
}
for c in "p256 sha256" "p384 sha384"; do
	read -r key dgst <<<"$c"
	check "$key: MCUboot image" mcu "$O/$key-1.bin" "$K/$key.pem"
	check "$key: MCUboot image again" mcu "$O/$key-2.bin" "$K/$key.pem"
	check "$key: the two MCUboot images are byte-identical (cmp)" \
		cmp "$O/$key-1.bin" "$O/$key-2.bin"
	mcu_sig "$O/$key-1.bin" "$dgst" "$O/$key.mh" "$O/$key.msig" ||
		die "mcu_sig $key"
	verified "$key MCUboot image" "$K/$key.pub.pem" "$O/$key.mh" \
		"$O/$key.msig"
done
check "p256b: MCUboot image" mcu "$O/p256b.bin" "$K/p256b.pem"
mcu_sig "$O/p256b.bin" sha256 "$O/p256b.mh" "$O/p256b.msig" ||
	die "mcu_sig p256b"
assert_same_file "$O/p256.mh" "$O/p256b.mh"
[ "$(r_of "$O/p256.msig")" != "$(r_of "$O/p256b.msig")" ]
_assert $? "MCUboot: another key, same hash: r should differ"

# ------------------------------------------------------ DSSE envelopes

check "manifest" in_dir "$D" otatool manifest -q -o "$O/m.json" release.yaml
check "manifest of the next version" in_dir "$D" otatool manifest -q \
	-o "$O/n.json" next.yaml
for c in "p256 sha256" "p384 sha384"; do
	read -r key dgst <<<"$c"
	check "$key: sign" otatool sign -q --key "$K/$key.pem" \
		-o "$O/$key-1.signed.json" "$O/m.json"
	check "$key: sign again" otatool sign -q --key "$K/$key.pem" \
		-o "$O/$key-2.signed.json" "$O/m.json"
	check "$key: the two envelopes are byte-identical (cmp)" \
		cmp "$O/$key-1.signed.json" "$O/$key-2.signed.json"
	env_sig "$O/$key-1.signed.json" "$O/$key.pae" "$O/$key.esig"
	verified "$key envelope" "$K/$key.pub.pem" "$O/$key.pae" \
		"$O/$key.esig" "$dgst"
done
check "p256: sign the next version" otatool sign -q --key "$K/p256.pem" \
	-o "$O/n.signed.json" "$O/n.json"
env_sig "$O/n.signed.json" "$O/n.pae" "$O/n.esig"
verified "next envelope" "$K/p256.pub.pem" "$O/n.pae" "$O/n.esig" sha256
[ "$(r_of "$O/p256.esig")" != "$(r_of "$O/n.esig")" ]
_assert $? "DSSE: another manifest, same key: r should differ"

# ------------------------------------------------------- a token's key

if [ -f "$SOFTHSM_MODULE" ] && command -v softhsm2-util >/dev/null; then
	make_token "$T/hsm" release
	URI='pkcs11:token=release;object=repro'
	check "token: generate a P-256 key" \
		otatool keys generate -q --type ecdsa-p256 --key "$URI"
	check "token: export the public key" \
		otatool keys export-public "$URI" -o "$O/tok.pub.pem"
	check "token: package" pkg "$O/tok-1.otapkg" "$URI" release.yaml
	check "token: package again" pkg "$O/tok-2.otapkg" "$URI" release.yaml
	! cmp -s "$O/tok-1.otapkg" "$O/tok-2.otapkg"
	_assert $? "token: the HSM chose the same k twice"
	check "token: diff says the same signed content" \
		otatool diff "$O/tok-1.otapkg" "$O/tok-2.otapkg"
	assert_contains "$OUT" "the same signed content (otatool package)"
	# Only the signature entry differs: the signed region and the
	# images are the same bytes.
	p=$(u32 "$O/tok-1.otapkg" 16)
	s=$(u32 "$O/tok-1.otapkg" 20)
	check "token: the signed region is the same bytes" \
		cmp -n $((64 + p)) "$O/tok-1.otapkg" "$O/tok-2.otapkg"
	check "token: the images are the same bytes" \
		cmp -i $((64 + p + s)) "$O/tok-1.otapkg" "$O/tok-2.otapkg"
	for n in 1 2; do
		pkg_sig "$O/tok-$n.otapkg" sha256 "$O/tok-$n.H" "$O/tok-$n.sig"
		verified "token package $n" "$O/tok.pub.pem" "$O/tok-$n.H" \
			"$O/tok-$n.sig"
	done
else
	skip "token ECDSA rebuilds" "no SoftHSM module at $SOFTHSM_MODULE"
fi

finish
