# End-to-end tests of `otatool chain check` and of certificate chains in
# sign, package and verify: a CA hierarchy made at test time with the
# openssl CLI (openssl ca, exact dates), one certificate per way a chain
# can be wrong, each refusal checked for its reason, its culprit and its
# exit status, and cross-checked with `openssl verify` where it has an
# equivalent.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl softhsm2-util pkcs11-tool base64 cmp
if [ ! -f "$SOFTHSM_MODULE" ]; then
	echo "SoftHSM module $SOFTHSM_MODULE is missing (scripts/deps)" >&2
	exit 2
fi

FAKE_COMMIT=0123456789abcdef0123456789abcdef01234567

# ---------------------------------------------------------------- the CA

# Every certificate is issued by `openssl ca` with exact dates, so that
# "now" (2026 or later) falls where each test wants it:
#   root    2020-01-01 .. 2049-12-31
#   inter   2022-01-01 .. 2045-12-31
#   signer  2024-01-01 .. 2040-12-31
# and the odd ones out are dated on purpose. CRLs get a lastUpdate in the
# past too, so that they are current at every check time used here.
C=$T/ca
mkdir -p "$C"
cat >"$C/ca.cnf" <<'EOF'
[ca]
default_ca = ca_default
[ca_default]
database = $ENV::CADIR/index.txt
new_certs_dir = $ENV::CADIR
serial = $ENV::CADIR/serial
crlnumber = $ENV::CADIR/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 3650
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[policy_any]
commonName = supplied
EOF
printf '[req]\ndistinguished_name = dn\n[dn]\n' >"$C/req.cnf"
cat >"$C/ext.cnf" <<'EOF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[inter_nopathlen]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[inter_not_ca]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[inter_no_kcs]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer_no_eku]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer_self]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
EOF

# ossl LOG ARGS...: openssl, its output kept for a failed setup's report.
ossl() {
	local log=$1

	shift
	openssl "$@" >"$C/$log.log" 2>&1 ||
		die "openssl $*: $(cat "$C/$log.log")"
}

# key NAME TYPE: $C/NAME.key (ec-p256, ec-p384, rsa-1024, rsa-3072).
key() {
	case $2 in
	ec-*) ossl "$1" genpkey -algorithm EC -pkeyopt \
		"ec_paramgen_curve:P-${2#ec-p}" -out "$C/$1.key" ;;
	rsa-*) ossl "$1" genpkey -algorithm RSA -pkeyopt \
		"rsa_keygen_bits:${2#rsa-}" -out "$C/$1.key" ;;
	esac
}

# ca_dir NAME: the database of CA NAME, for openssl ca.
ca_dir() {
	mkdir -p "$C/db/$1"
	: >"$C/db/$1/index.txt"
	[ -e "$C/db/$1/serial" ] || echo 10 \
		>"$C/db/$1/serial"
	echo 01 >"$C/db/$1/crlnumber"
}

# issue NAME CN ISSUER EXT START END [OPENSSL CA OPTIONS...]: $C/NAME.pem for
# $C/NAME.key, signed by ISSUER ("self" for a self-signed root).
issue() {
	local name=$1 cn=$2 issuer=$3 ext=$4 start=$5 end=$6

	shift 6
	[ -e "$C/$name.key" ] || key "$name" ec-p256
	ossl "$name" req -new -config "$C/req.cnf" -key "$C/$name.key" \
		-subj "/CN=$cn" -out "$C/$name.csr"
	if [ "$issuer" = self ]; then
		ca_dir "$name"
		CADIR=$C/db/$name ossl "$name" ca -batch -config "$C/ca.cnf" \
			-selfsign -keyfile "$C/$name.key" -in "$C/$name.csr" \
			-extfile "$C/ext.cnf" -extensions "$ext" -notext \
			-startdate "$start" -enddate "$end" -out "$C/$name.pem" "$@"
	else
		[ -d "$C/db/$issuer" ] || ca_dir "$issuer"
		CADIR=$C/db/$issuer ossl "$name" ca -batch -config "$C/ca.cnf" \
			-cert "$C/$issuer.pem" -keyfile "$C/$issuer.key" \
			-in "$C/$name.csr" -extfile "$C/ext.cnf" -extensions "$ext" \
			-notext -startdate "$start" -enddate "$end" \
			-out "$C/$name.pem" "$@"
	fi
}

# crl ISSUER OUT: a CRL of ISSUER listing what it revoked so far.
crl() {
	CADIR=$C/db/$1 ossl "crl-$1" ca -batch -config "$C/ca.cnf" -gencrl \
		-cert "$C/$1.pem" -keyfile "$C/$1.key" \
		-crl_lastupdate 20250101000000Z -crl_nextupdate 20450101000000Z \
		-out "$2"
}

# revoke ISSUER NAME: ISSUER revokes $C/NAME.pem.
revoke() {
	CADIR=$C/db/$1 ossl "revoke-$2" ca -batch -config "$C/ca.cnf" \
		-cert "$C/$1.pem" -keyfile "$C/$1.key" -revoke "$C/$2.pem" \
		-crl_reason keyCompromise
}

ROOT_DATES=(20200101000000Z 20491231235959Z)
INTER_DATES=(20220101000000Z 20451231235959Z)
SIGNER_DATES=(20240101000000Z 20401231235959Z)

key root rsa-3072
issue root "Test Root" self root "${ROOT_DATES[@]}"
key other-root ec-p256
issue other-root "Other Root" self root "${ROOT_DATES[@]}"
key inter ec-p384
issue inter "Test Intermediate" root inter "${INTER_DATES[@]}"
issue signer "Test Signer" inter signer "${SIGNER_DATES[@]}"
# Signed by the root directly: the two-level chain.
issue direct "Direct Signer" root signer "${SIGNER_DATES[@]}"
# Dated wrong.
issue expired "Expired Signer" inter signer 20230101000000Z 20240101000000Z
issue future "Future Signer" inter signer 20390101000000Z 20400101000000Z
issue old-inter "Expired Intermediate" root inter 20220101000000Z \
	20240101000000Z
issue old-inter-signer "Signer Under Expired" old-inter signer \
	"${SIGNER_DATES[@]}"
# Wrong usages.
issue no-eku "No EKU Signer" inter signer_no_eku "${SIGNER_DATES[@]}"
issue server "TLS Server" inter signer_server "${SIGNER_DATES[@]}"
issue not-ca "Not A CA" root inter_not_ca "${INTER_DATES[@]}"
issue not-ca-signer "Signer Under Not A CA" not-ca signer "${SIGNER_DATES[@]}"
issue no-kcs "No KeyCertSign CA" root inter_no_kcs "${INTER_DATES[@]}"
issue no-kcs-signer "Signer Under No KeyCertSign" no-kcs signer \
	"${SIGNER_DATES[@]}"
# root -> inter (pathlen:0) -> sub -> signer: one CA too many.
issue sub "Sub Intermediate" inter inter_nopathlen "${INTER_DATES[@]}"
issue sub-signer "Signer Too Deep" sub signer "${SIGNER_DATES[@]}"
# root -> wide (no pathlen) -> sub2 -> signer: four levels, all allowed.
issue wide "Wide Intermediate" root inter_nopathlen "${INTER_DATES[@]}"
issue sub2 "Second Level CA" wide inter "${INTER_DATES[@]}"
issue deep "Deep Signer" sub2 signer "${SIGNER_DATES[@]}"
# Weak algorithms.
issue sha1 "SHA-1 Signer" inter signer "${SIGNER_DATES[@]}" -md sha1
key rsa1024 rsa-1024
issue rsa1024 "RSA-1024 Signer" inter signer "${SIGNER_DATES[@]}"
# Self-signed, but otherwise a perfect code-signing certificate.
issue self "Self Signer" self signer_self "${SIGNER_DATES[@]}"
# Named for an issuer that does not exist: "Other Intermediate" holds the
# intermediate's key, so the signer even carries the right key identifier.
cp "$C/inter.key" "$C/misnamed.key"
issue misnamed "Other Intermediate" self root "${INTER_DATES[@]}"
issue misnamed-signer "Misnamed Signer" misnamed signer "${SIGNER_DATES[@]}"
# An impostor with the intermediate's name and key identifier but its own
# key: what it issues names the real intermediate and fails its signature.
INTER_SKID=$(openssl x509 -in "$C/inter.pem" -noout -ext subjectKeyIdentifier |
	sed -n 's/^ *\([0-9A-F:]\{59\}\)$/\1/p')
[ -n "$INTER_SKID" ] || die "no subjectKeyIdentifier in inter.pem"
printf '[impostor]\nbasicConstraints = critical, CA:TRUE\n%s\n%s\n' \
	"keyUsage = critical, keyCertSign, cRLSign" \
	"subjectKeyIdentifier = $INTER_SKID" >>"$C/ext.cnf"
issue impostor "Test Intermediate" self impostor "${INTER_DATES[@]}"
issue forged "Forged Signer" impostor signer "${SIGNER_DATES[@]}"
# Revocation: the intermediate revokes a signer, the root an intermediate.
issue revoked "Revoked Signer" inter signer "${SIGNER_DATES[@]}"
issue rev-inter "Revoked Intermediate" root inter "${INTER_DATES[@]}"
issue rev-inter-signer "Signer Under Revoked" rev-inter signer \
	"${SIGNER_DATES[@]}"
revoke inter revoked
revoke root rev-inter
crl inter "$C/inter.crl"
crl root "$C/root.crl"
crl rev-inter "$C/rev-inter.crl"
crl impostor "$C/forged.crl"
CADIR=$C/db/inter ossl stale-crl ca -batch -config "$C/ca.cnf" -gencrl \
	-cert "$C/inter.pem" -keyfile "$C/inter.key" \
	-crl_lastupdate 20250101000000Z -crl_nextupdate 20250201000000Z \
	-out "$C/stale.crl"
for name in root inter signer; do
	openssl x509 -in "$C/$name.pem" -outform DER -out "$C/$name.der" ||
		die "openssl x509 -outform DER $name"
done
openssl pkey -in "$C/signer.key" -pubout -out "$C/signer.pub.pem" ||
	die "openssl pkey -pubout"

# A signing key inside a SoftHSM token, made and read by pkcs11-tool; its
# certificate is issued for that public key (openssl x509 -req -days).
H=$T/softhsm
make_token "$H" chain
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label chain --login --pin 1234 \
	--keypairgen --key-type EC:prime256v1 --label signer --id 01 \
	>"$H/keygen.log" 2>&1 || die "pkcs11-tool --keypairgen: $(cat "$H/keygen.log")"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label chain --read-object \
	--type pubkey --label signer -o "$H/token.pub.der" >"$H/read.log" 2>&1 ||
	die "pkcs11-tool --read-object: $(cat "$H/read.log")"
ossl token-pub pkey -pubin -inform DER -in "$H/token.pub.der" \
	-out "$C/token.pub.pem"
TOKEN_KEY='pkcs11:token=chain;object=signer'
ossl token req -new -config "$C/req.cnf" -key "$C/direct.key" \
	-subj "/CN=Token Signer" -out "$C/token.csr"
ossl token x509 -req -in "$C/token.csr" -force_pubkey "$C/token.pub.pem" \
	-CA "$C/inter.pem" -CAkey "$C/inter.key" -set_serial 4242 -days 30 \
	-extfile "$C/ext.cnf" -extensions signer -out "$C/token.pem"

# ---------------------------------------------------------------- helpers

# fingerprint CERT: SHA-256 of the DER as openssl prints it, as otatool
# spells it (lower case, no colons).
fingerprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//; s/://g' |
		tr 'A-F' 'a-f'
}

epoch() {
	date -u -d "$1" +%s
}

# trusted NAME N ARGS...: `otatool chain check ARGS` trusts a chain of N
# certificates, in JSON and as a tree.
trusted() {
	local name=$1 n=$2

	shift 2
	check "$name (json)" otatool chain check --json "$@"
	assert_json "$OUT" .trusted true
	assert_json "$OUT" .reason '"ok"'
	assert_json "$OUT" .fail_depth null
	assert_json "$OUT" '.certificates | length' "$n"
	assert_json "$OUT" '[.certificates[].trusted]' \
		"[$(printf 'false,%.0s' $(seq 2 "$n"))true]"
	assert_json "$OUT" '[.certificates[].depth]' \
		"[$(seq -s, 0 $((n - 1)))]"
	check "$name (tree)" otatool chain check "$@"
	assert_contains "$OUT" "verdict: TRUSTED"
	assert_matches "$OUT" "^ *└─ \[$((n - 1))\] .*  \(trust anchor\)$"
	assert_not_contains "$OUT" "refused here"
	assert_empty "$ERR"
}

# refused NAME REASON DEPTH CN ARGS...: `otatool chain check ARGS` refuses
# with REASON and blames the certificate CN at DEPTH, in JSON, in the
# tree (its line alone marked) and once on stderr.
refused() {
	local name=$1 reason=$2 depth=$3 cn=$4

	shift 4
	expect_exit 6 "$name (json)" otatool chain check --json "$@"
	assert_json "$OUT" .trusted false
	assert_json "$OUT" .reason "$(q "$reason")"
	assert_json "$OUT" .fail_depth "$depth"
	assert_json "$OUT" ".certificates[$depth].subject" "$(q "CN=$cn")"
	assert_json "$OUT" ".message | contains($(q "\"CN=$cn\""))" true
	expect_exit 6 "$name (tree)" otatool chain check "$@"
	assert_matches "$OUT" "^ *(└─ )?\[$depth\] CN=$cn(  \(trust anchor\))?  <-- refused here$"
	assert_eq "$(grep -c -- '<-- refused here' "$OUT")" 1 \
		"$name: lines marked as refused"
	assert_contains "$OUT" "verdict: REFUSED ($reason): "
	assert_matches "$ERR" "^otatool: chain: .*\"CN=$cn\""
	assert_eq "$(wc -l <"$ERR")" 1 "$name: lines on stderr"
}

# ossl_ok NAME ARGS...: `openssl verify ARGS` accepts too.
ossl_ok() {
	local name=$1

	shift
	check "openssl verify agrees: $name" openssl verify "$@"
	assert_matches "$OUT" ": OK$"
}

# ossl_refuses NAME CODE DEPTH ARGS...: `openssl verify ARGS` refuses too,
# with X509_V_ERR CODE at DEPTH.
ossl_refuses() {
	local name=$1 code=$2 depth=$3

	shift 3
	expect_exit 2 "openssl verify agrees: $name" openssl verify "$@"
	assert_contains "$ERR" "error $code at $depth depth lookup"
}

# bad_input NAME FILE TEXT ARGS...: `otatool chain check ARGS` cannot read
# FILE: exit status 3, FILE and TEXT in the one error line.
bad_input() {
	local name=$1 file=$2 text=$3

	shift 3
	expect_exit 3 "$name" otatool chain check "$@"
	assert_contains "$ERR" "otatool: chain: $file: "
	assert_contains "$ERR" "$text"
	assert_eq "$(wc -l <"$ERR")" 1 "$name: lines on stderr"
	assert_empty "$OUT"
}

ROOT=(--trust "$C/root.pem")
CA=(-CAfile "$C/root.pem")

# ---------------------------------------------------------------- valid chains

trusted "3-level chain" 3 --cert "$C/signer.pem" --chain "$C/inter.pem" "${ROOT[@]}"
ossl_ok "3-level chain" "${CA[@]}" -untrusted "$C/inter.pem" "$C/signer.pem"
check "3-level chain: the report" otatool chain check --json \
	--cert "$C/signer.pem" --chain "$C/inter.pem" "${ROOT[@]}"
assert_json "$OUT" '[.certificates[].subject]' \
	'["CN=Test Signer","CN=Test Intermediate","CN=Test Root"]'
assert_json "$OUT" '[.certificates[].issuer]' \
	'["CN=Test Intermediate","CN=Test Root","CN=Test Root"]'
assert_json "$OUT" '[.certificates[].key]' '["EC P-256","EC P-384","RSA 3072"]'
assert_json "$OUT" '.certificates[0].not_before' '"2024-01-01T00:00:00Z"'
assert_json "$OUT" '.certificates[0].not_after' '"2040-12-31T23:59:59Z"'
assert_json "$OUT" '.certificates[2].not_before' '"2020-01-01T00:00:00Z"'
for i in 0:signer 1:inter 2:root; do
	assert_json "$OUT" ".certificates[${i%%:*}].sha256" \
		"$(q "$(fingerprint "$C/${i#*:}.pem")")"
	assert_json "$OUT" ".certificates[${i%%:*}].serial" \
		"$(q "$(openssl x509 -in "$C/${i#*:}.pem" -noout -serial | sed 's/^serial=//')")"
done
assert_matches "$OUT" '"checked_at": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"'

trusted "2-level chain (signer under the root)" 2 \
	--cert "$C/direct.pem" "${ROOT[@]}"
ossl_ok "2-level chain" "${CA[@]}" "$C/direct.pem"
check "2-level chain: root fingerprint" otatool chain check --json \
	--cert "$C/direct.pem" "${ROOT[@]}"
assert_json "$OUT" '.certificates[1].sha256' "$(q "$(fingerprint "$C/root.pem")")"
assert_json "$OUT" '.certificates[1].subject' '"CN=Test Root"'

trusted "4-level chain" 4 --cert "$C/deep.pem" --chain "$C/sub2.pem" \
	--chain "$C/wide.pem" "${ROOT[@]}"
cat "$C/wide.pem" "$C/sub2.pem" >"$C/wide-sub2.pem"
ossl_ok "4-level chain" "${CA[@]}" -untrusted "$C/wide-sub2.pem" "$C/deep.pem"
check "4-level chain: the report" otatool chain check --json \
	--cert "$C/deep.pem" --chain "$C/wide-sub2.pem" "${ROOT[@]}"
assert_json "$OUT" '[.certificates[].subject]' \
	'["CN=Deep Signer","CN=Second Level CA","CN=Wide Intermediate","CN=Test Root"]'
assert_json "$OUT" '.certificates[3].sha256' "$(q "$(fingerprint "$C/root.pem")")"

check "-q: nothing printed" otatool chain check -q --cert "$C/signer.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}"
assert_empty "$OUT"
assert_empty "$ERR"
expect_exit 6 "-q: a refusal, on stderr only" otatool chain check -q \
	--cert "$C/signer.pem" "${ROOT[@]}"
assert_empty "$OUT"
assert_contains "$ERR" 'no issuer "CN=Test Intermediate" found'

trusted "DER signer, intermediate and root" 3 --cert "$C/signer.der" \
	--chain "$C/inter.der" --trust "$C/root.der"
cat "$C/other-root.pem" "$C/root.pem" >"$C/roots.pem"
trusted "--trust: a bundle of roots" 3 --cert "$C/signer.pem" \
	--chain "$C/inter.pem" --trust "$C/roots.pem"
cat "$C/no-kcs.pem" "$C/inter.pem" >"$C/inters.pem"
trusted "--chain: a bundle with a stranger" 3 --cert "$C/signer.pem" \
	--chain "$C/inters.pem" "${ROOT[@]}"
# An intermediate may be the trust anchor: the chain ends there.
trusted "--trust: the intermediate" 2 --cert "$C/signer.pem" \
	--trust "$C/inter.pem"
ossl_ok "the intermediate as trust anchor" -partial_chain \
	-CAfile "$C/inter.pem" "$C/signer.pem"

# A directory: *.pem, *.crt, *.cer and *.der files; nothing else, and not
# what is below it.
TD=$T/trustdir
mkdir -p "$TD/sub.pem"
cp "$C/other-root.pem" "$TD/other.pem"
cp "$C/root.der" "$TD/root.der"
cp "$C/root.pem" "$TD/sub.pem/root.pem"
echo "not a certificate" >"$TD/README"
trusted "--trust: a directory" 3 --cert "$C/signer.pem" --chain "$C/inter.pem" \
	--trust "$TD"
rm "$TD/root.der"
refused "--trust: a directory without the root (not recursive)" \
	unknown-issuer 1 "Test Intermediate" --cert "$C/signer.pem" \
	--chain "$C/inter.pem" --trust "$TD"
cp "$C/root.pem" "$TD/root.crt"
trusted "--trust: a directory with root.crt" 3 --cert "$C/signer.pem" \
	--chain "$C/inter.pem" --trust "$TD"
mkdir -p "$T/emptydir"
echo "not a certificate" >"$T/emptydir/README"
expect_exit 3 "--trust: a directory without certificates" otatool chain check \
	--cert "$C/signer.pem" --chain "$C/inter.pem" --trust "$T/emptydir"
assert_contains "$ERR" "$T/emptydir: no certificate files"

# ---------------------------------------------------------------- validity

refused "expired signer" expired 0 "Expired Signer" \
	--cert "$C/expired.pem" --chain "$C/inter.pem" "${ROOT[@]}"
assert_contains "$OUT" "expired at 2024-01-01T00:00:00Z"
ossl_refuses "expired signer" 10 0 "${CA[@]}" -untrusted "$C/inter.pem" \
	"$C/expired.pem"

refused "not yet valid signer" not-yet-valid 0 "Future Signer" \
	--cert "$C/future.pem" --chain "$C/inter.pem" "${ROOT[@]}"
assert_contains "$OUT" "not valid before 2039-01-01T00:00:00Z"
ossl_refuses "not yet valid signer" 9 0 "${CA[@]}" -untrusted "$C/inter.pem" \
	"$C/future.pem"

refused "expired intermediate" expired 1 "Expired Intermediate" \
	--cert "$C/old-inter-signer.pem" --chain "$C/old-inter.pem" "${ROOT[@]}"
ossl_refuses "expired intermediate" 10 1 "${CA[@]}" \
	-untrusted "$C/old-inter.pem" "$C/old-inter-signer.pem"

# --at moves the check time both ways.
AT_BEFORE=2023-06-01T00:00:00Z
AT_AFTER=2041-06-01T00:00:00Z
refused "--at before the signer's notBefore" not-yet-valid 0 "Test Signer" \
	--cert "$C/signer.pem" --chain "$C/inter.pem" "${ROOT[@]}" --at "$AT_BEFORE"
assert_contains "$OUT" "checked at $AT_BEFORE"
ossl_refuses "-attime before notBefore" 9 0 "${CA[@]}" -attime "$(epoch "$AT_BEFORE")" \
	-untrusted "$C/inter.pem" "$C/signer.pem"
refused "--at after the signer's notAfter" expired 0 "Test Signer" \
	--cert "$C/signer.pem" --chain "$C/inter.pem" "${ROOT[@]}" --at "$AT_AFTER"
ossl_refuses "-attime after notAfter" 10 0 "${CA[@]}" -attime "$(epoch "$AT_AFTER")" \
	-untrusted "$C/inter.pem" "$C/signer.pem"
trusted "--at when the expired signer was valid" 3 --cert "$C/expired.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --at "$AT_BEFORE"
ossl_ok "-attime when the expired signer was valid" "${CA[@]}" \
	-attime "$(epoch "$AT_BEFORE")" -untrusted "$C/inter.pem" "$C/expired.pem"
check "--at: reported as the check time" otatool chain check --json \
	--cert "$C/expired.pem" --chain "$C/inter.pem" "${ROOT[@]}" \
	--at 2023-06-01T02:00:00+02:00
assert_json "$OUT" .checked_at "$(q "$AT_BEFORE")"

# ---------------------------------------------------------------- usages

refused "signer without extendedKeyUsage" no-code-signing 0 "No EKU Signer" \
	--cert "$C/no-eku.pem" --chain "$C/inter.pem" "${ROOT[@]}"
refused "signer with serverAuth only" no-code-signing 0 "TLS Server" \
	--cert "$C/server.pem" --chain "$C/inter.pem" "${ROOT[@]}"
assert_contains "$OUT" "serverAuth"
refused "intermediate with CA:FALSE" not-ca 1 "Not A CA" \
	--cert "$C/not-ca-signer.pem" --chain "$C/not-ca.pem" "${ROOT[@]}"
ossl_refuses "intermediate with CA:FALSE" 79 1 "${CA[@]}" \
	-untrusted "$C/not-ca.pem" "$C/not-ca-signer.pem"
refused "intermediate without keyCertSign" no-key-cert-sign 1 \
	"No KeyCertSign CA" --cert "$C/no-kcs-signer.pem" --chain "$C/no-kcs.pem" \
	"${ROOT[@]}"
ossl_refuses "intermediate without keyCertSign" 32 1 "${CA[@]}" \
	-untrusted "$C/no-kcs.pem" "$C/no-kcs-signer.pem"
refused "pathLenConstraint exceeded" path-length 2 "Test Intermediate" \
	--cert "$C/sub-signer.pem" --chain "$C/sub.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}"
expect_exit 6 "pathLenConstraint exceeded: the whole chain" otatool chain \
	check --json --cert "$C/sub-signer.pem" --chain "$C/sub.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}"
assert_json "$OUT" '[.certificates[].subject]' \
	'["CN=Signer Too Deep","CN=Sub Intermediate","CN=Test Intermediate","CN=Test Root"]'
cat "$C/inter.pem" "$C/sub.pem" >"$C/inter-sub.pem"
ossl_refuses "pathLenConstraint exceeded" 25 2 "${CA[@]}" \
	-untrusted "$C/inter-sub.pem" "$C/sub-signer.pem"

# ---------------------------------------------------------------- issuers

refused "unknown root" unknown-issuer 1 "Test Intermediate" \
	--cert "$C/signer.pem" --chain "$C/inter.pem" --trust "$C/other-root.pem"
ossl_refuses "unknown root" 20 1 -CAfile "$C/other-root.pem" \
	-untrusted "$C/inter.pem" "$C/signer.pem"
cat "$C/inter.pem" "$C/root.pem" >"$C/inter-root.pem"
refused "unknown root, sent along as an intermediate" untrusted-root 2 \
	"Test Root" --cert "$C/signer.pem" --chain "$C/inter-root.pem" \
	--trust "$C/other-root.pem"
ossl_refuses "unknown root, sent along" 19 2 -CAfile "$C/other-root.pem" \
	-untrusted "$C/inter-root.pem" "$C/signer.pem"
refused "missing intermediate" unknown-issuer 0 "Test Signer" \
	--cert "$C/signer.pem" "${ROOT[@]}"
assert_contains "$OUT" 'no issuer "CN=Test Intermediate" found'
ossl_refuses "missing intermediate" 20 0 "${CA[@]}" "$C/signer.pem"
refused "issuer name matches no subject" unknown-issuer 0 "Misnamed Signer" \
	--cert "$C/misnamed-signer.pem" --chain "$C/inter.pem" "${ROOT[@]}"
assert_contains "$OUT" 'no issuer "CN=Other Intermediate" found'
ossl_refuses "issuer name matches no subject" 20 0 "${CA[@]}" \
	-untrusted "$C/inter.pem" "$C/misnamed-signer.pem"
refused "signature by another key" bad-signature 0 "Forged Signer" \
	--cert "$C/forged.pem" --chain "$C/inter.pem" "${ROOT[@]}"
ossl_refuses "signature by another key" 7 0 "${CA[@]}" \
	-untrusted "$C/inter.pem" "$C/forged.pem"
refused "self-signed signer as the leaf" self-signed-leaf 0 "Self Signer" \
	--cert "$C/self.pem" "${ROOT[@]}"
ossl_refuses "self-signed signer" 18 0 "${CA[@]}" "$C/self.pem"
refused "self-signed signer, trusted as a root" self-signed-leaf 0 \
	"Self Signer" --cert "$C/self.pem" --trust "$C/self.pem"

# ---------------------------------------------------------------- revocation

refused "revoked signer" revoked 0 "Revoked Signer" --cert "$C/revoked.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --crl "$C/inter.crl"
assert_contains "$OUT" "$(openssl x509 -in "$C/revoked.pem" -noout -serial |
	sed 's/^serial=//')"
ossl_refuses "revoked signer" 23 0 "${CA[@]}" -untrusted "$C/inter.pem" \
	-crl_check -CRLfile "$C/inter.crl" "$C/revoked.pem"
trusted "revoked signer, without its CRL" 3 --cert "$C/revoked.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}"
trusted "a CRL that lists another certificate" 3 --cert "$C/signer.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --crl "$C/inter.crl"
ossl_ok "a CRL that lists another certificate" "${CA[@]}" \
	-untrusted "$C/inter.pem" -crl_check -CRLfile "$C/inter.crl" \
	"$C/signer.pem"
refused "revoked intermediate" revoked 1 "Revoked Intermediate" \
	--cert "$C/rev-inter-signer.pem" --chain "$C/rev-inter.pem" "${ROOT[@]}" \
	--crl "$C/root.crl"
ossl_refuses "revoked intermediate" 23 1 "${CA[@]}" -untrusted "$C/rev-inter.pem" \
	-crl_check_all -CRLfile "$C/root.crl" -CRLfile "$C/rev-inter.crl" \
	"$C/rev-inter-signer.pem"
refused "--crl-required without any CRL" crl-missing 0 "Test Signer" \
	--cert "$C/signer.pem" --chain "$C/inter.pem" "${ROOT[@]}" --crl-required
ossl_refuses "-crl_check without any CRL" 3 0 "${CA[@]}" \
	-untrusted "$C/inter.pem" -crl_check "$C/signer.pem"
refused "--crl-required without the root's CRL" crl-missing 1 \
	"Test Intermediate" --cert "$C/signer.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" --crl-required --crl "$C/inter.crl"
ossl_refuses "-crl_check_all without the root's CRL" 3 1 "${CA[@]}" \
	-untrusted "$C/inter.pem" -crl_check_all -CRLfile "$C/inter.crl" \
	"$C/signer.pem"
cat "$C/inter.crl" "$C/root.crl" >"$C/crls.pem"
trusted "--crl-required with every CRL (one bundle)" 3 --cert "$C/signer.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --crl-required --crl "$C/crls.pem"
ossl_ok "-crl_check_all with every CRL" "${CA[@]}" -untrusted "$C/inter.pem" \
	-crl_check_all -CRLfile "$C/crls.pem" "$C/signer.pem"
refused "an expired CRL" crl-invalid 0 "Test Signer" --cert "$C/signer.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --crl "$C/stale.crl"
ossl_refuses "an expired CRL" 12 0 "${CA[@]}" -untrusted "$C/inter.pem" \
	-crl_check -CRLfile "$C/stale.crl" "$C/signer.pem"
refused "a CRL signed by an impostor" crl-invalid 0 "Test Signer" \
	--cert "$C/signer.pem" --chain "$C/inter.pem" "${ROOT[@]}" \
	--crl "$C/forged.crl"
ossl_refuses "a CRL signed by an impostor" 8 0 "${CA[@]}" \
	-untrusted "$C/inter.pem" -crl_check -CRLfile "$C/forged.crl" \
	"$C/signer.pem"
trusted "--crl-required, 2 levels: the root's CRL is all it takes" 2 \
	--cert "$C/direct.pem" "${ROOT[@]}" --crl-required --crl "$C/root.crl"
ossl_ok "-crl_check_all, 2 levels" "${CA[@]}" -crl_check_all \
	-CRLfile "$C/root.crl" "$C/direct.pem"

# ---------------------------------------------------------------- algorithms

refused "SHA-1 signature on the signer" weak-algorithm 0 "SHA-1 Signer" \
	--cert "$C/sha1.pem" --chain "$C/inter.pem" "${ROOT[@]}"
assert_contains "$OUT" "ecdsa-with-SHA1"
ossl_refuses "SHA-1 at security level 2" 68 0 -auth_level 2 "${CA[@]}" \
	-untrusted "$C/inter.pem" "$C/sha1.pem"
trusted "SHA-1 with --allow-weak-crypto" 3 --cert "$C/sha1.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --allow-weak-crypto
refused "RSA-1024 signer" weak-algorithm 0 "RSA-1024 Signer" \
	--cert "$C/rsa1024.pem" --chain "$C/inter.pem" "${ROOT[@]}"
assert_contains "$OUT" "RSA 1024"
ossl_refuses "RSA-1024 at security level 2" 66 0 -auth_level 2 "${CA[@]}" \
	-untrusted "$C/inter.pem" "$C/rsa1024.pem"
trusted "RSA-1024 with --allow-weak-crypto" 3 --cert "$C/rsa1024.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --allow-weak-crypto

# ---------------------------------------------------------------- --key

trusted "--key: the signer's private key" 3 --cert "$C/signer.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --key "$C/signer.key"
trusted "--key: the signer's public key" 3 --cert "$C/signer.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --key "$C/signer.pub.pem"
refused "--key: another P-256 key" key-mismatch 0 "Test Signer" \
	--cert "$C/signer.pem" --chain "$C/inter.pem" "${ROOT[@]}" \
	--key "$C/direct.key"
refused "--key: a P-384 key" key-mismatch 0 "Test Signer" \
	--cert "$C/signer.pem" --chain "$C/inter.pem" "${ROOT[@]}" \
	--key "$C/inter.key"
assert_contains "$OUT" "(EC P-384) does not match"
trusted "--key: a pkcs11: URI" 3 --cert "$C/token.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" --key "$TOKEN_KEY"
ossl_ok "the token's certificate" "${CA[@]}" -untrusted "$C/inter.pem" \
	"$C/token.pem"
refused "--key: a pkcs11: URI, another certificate" key-mismatch 0 \
	"Test Signer" --cert "$C/signer.pem" --chain "$C/inter.pem" "${ROOT[@]}" \
	--key "$TOKEN_KEY"
trusted "--key: a pkcs11: URI with --pkcs11-module" 3 --cert "$C/token.pem" \
	--chain "$C/inter.pem" "${ROOT[@]}" --key "$TOKEN_KEY" \
	--pkcs11-module "$SOFTHSM_MODULE"

# ---------------------------------------------------------------- bad input

B=$T/bad
mkdir -p "$B"
printf 'this is not a certificate\n' >"$B/garbage.txt"
head -c 300 /dev/urandom | tr '\060-' 'xy' >"$B/garbage.bin"
: >"$B/empty.pem"
head -n 6 "$C/signer.pem" >"$B/trunc.pem"
head -c 150 "$C/signer.der" >"$B/trunc.der"
{ cat "$C/inter.pem"; head -n 5 "$C/root.pem"; } >"$B/trunc-bundle.pem"
head -n 4 "$C/inter.crl" >"$B/trunc-crl.pem"
openssl crl -in "$C/inter.crl" -outform DER | head -c 100 >"$B/trunc-crl.der"
cp "$C/signer.der" "$B/trailing.der"
printf 'junk' >>"$B/trailing.der"
sed 3d "$C/signer.pem" >"$B/garbled.pem"
SIGNER=(--cert "$C/signer.pem")
INTER=(--chain "$C/inter.pem")

for f in garbage.txt garbage.bin trunc.pem garbled.pem trunc.der empty.pem \
	trailing.der; do
	bad_input "--cert $f" "$B/$f" "" --cert "$B/$f" "${INTER[@]}" "${ROOT[@]}"
	bad_input "--chain $f" "$B/$f" "" "${SIGNER[@]}" --chain "$B/$f" "${ROOT[@]}"
	bad_input "--trust $f" "$B/$f" "" "${SIGNER[@]}" "${INTER[@]}" --trust "$B/$f"
done
bad_input "--cert: truncated DER, said so" "$B/trunc.der" \
	"truncated DER certificate (150 of $(stat -c %s "$C/signer.der") bytes)" \
	--cert "$B/trunc.der" "${INTER[@]}" "${ROOT[@]}"
bad_input "--cert: trailing garbage, said so" "$B/trailing.der" \
	"4 bytes of garbage after the DER certificate" \
	--cert "$B/trailing.der" "${INTER[@]}" "${ROOT[@]}"
bad_input "--chain: truncated second certificate" "$B/trunc-bundle.pem" \
	"certificate 2 of the bundle" "${SIGNER[@]}" --chain "$B/trunc-bundle.pem" \
	"${ROOT[@]}"
bad_input "--cert: a bundle of two" "$C/inter-root.pem" "holds 2 certificates" \
	--cert "$C/inter-root.pem" "${ROOT[@]}"
bad_input "--cert: no such file" "$B/missing.pem" "" --cert "$B/missing.pem" \
	"${ROOT[@]}"
bad_input "--trust: no such file" "$B/missing.pem" "" "${SIGNER[@]}" \
	--trust "$B/missing.pem"
cp "$B/garbage.txt" "$TD/zz-garbage.pem"
bad_input "--trust: a directory with a garbage file" "$TD/zz-garbage.pem" "" \
	"${SIGNER[@]}" "${INTER[@]}" --trust "$TD"
rm "$TD/zz-garbage.pem"
for f in garbage.txt garbage.bin trunc-crl.pem trunc-crl.der empty.pem; do
	bad_input "--crl $f" "$B/$f" "CRL" "${SIGNER[@]}" "${INTER[@]}" \
		"${ROOT[@]}" --crl "$B/$f"
done
bad_input "--crl: a certificate" "$C/root.pem" "CRL" "${SIGNER[@]}" \
	"${INTER[@]}" "${ROOT[@]}" --crl "$C/root.pem"

for at in 2026-13-01T00:00:00Z yesterday 2026-11-24 2026-11-24T25:00:00Z ""; do
	# A bad option value is a usage error, as everywhere.
	expect_exit 2 "--at '$at'" otatool chain check "${SIGNER[@]}" \
		"${INTER[@]}" "${ROOT[@]}" --at "$at"
	assert_contains "$ERR" "otatool: chain: --at: "
	assert_empty "$OUT"
done

# ---------------------------------------------------------------- usage

expect_exit 2 "no --trust" otatool chain check "${SIGNER[@]}" "${INTER[@]}"
assert_contains "$ERR" "no --trust given"
assert_empty "$OUT"
expect_exit 2 "--trust-key is no anchor" otatool chain check "${SIGNER[@]}" \
	"${INTER[@]}" --trust-key "$C/root.pem"
assert_contains "$ERR" "--trust-key does not apply"
expect_exit 2 "no --cert" otatool chain check "${ROOT[@]}"
assert_contains "$ERR" "no --cert given"
expect_exit 2 "no subcommand" otatool chain --cert "$C/signer.pem" "${ROOT[@]}"
assert_contains "$ERR" "expected 'check'"
expect_exit 2 "an argument too many" otatool chain check "${SIGNER[@]}" \
	"${ROOT[@]}" "$C/inter.pem"
assert_contains "$ERR" "unexpected argument"
expect_exit 2 "unknown option" otatool chain check "${SIGNER[@]}" "${ROOT[@]}" \
	--crl-requird
assert_contains "$ERR" "did you mean '--crl-required'"
check "chain check --help" otatool chain check --help
assert_contains "$OUT" "usage: otatool chain check"
assert_contains "$OUT" "--crl-required"

# ---------------------------------------------------------------- sign

# A release like examples/release.yaml, built, signed and verified now:
# inside every "valid" window above.
R=$T/release
mkdir -p "$R"
cp "$OTATOOL_SRC/examples/release.yaml" "$R/"
cp -R "$OTATOOL_SRC/examples/images" "$R/"
run otatool manifest -q --git-commit "$FAKE_COMMIT" -o "$R/m.json" \
	"$R/release.yaml"
[ "$RC" = 0 ] || die "otatool manifest: $(cat "$ERR")"

check "sign with --cert, --chain and --trust" otatool sign -q \
	--key "$C/signer.key" --cert "$C/signer.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" "$R/m.json"
S=$R/m.signed.json
assert_json "$S" '.signatures | length' 1
assert_json "$S" '.signatures[0].certificates | length' 2
for i in 0:signer 1:inter; do
	jq -r ".signatures[0].certificates[${i%%:*}]" "$S" | base64 -d \
		>"$T/embedded.der"
	assert_same_file "$T/embedded.der" "$C/${i#*:}.der"
done
# the signature itself, by the certificate's key, checked with openssl
jq -r .payload "$S" | base64 -d >"$T/payload"
assert_same_file "$T/payload" "$R/m.json"
TYPE=application/vnd.otatool.manifest+json
printf 'DSSEv1 %d %s %d ' ${#TYPE} "$TYPE" "$(stat -c %s "$T/payload")" >"$T/pae"
cat "$T/payload" >>"$T/pae"
jq -r '.signatures[0].sig' "$S" | base64 -d >"$T/sig"
openssl x509 -in "$C/signer.pem" -noout -pubkey >"$T/cert.pub"
check "openssl verifies the signature with the certificate's key" \
	openssl dgst -sha256 -verify "$T/cert.pub" -signature "$T/sig" "$T/pae"

check "sign: with a token key and its chain" otatool sign -q \
	--key "$TOKEN_KEY" --cert "$C/token.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" -o "$R/token.signed.json" "$R/m.json"
assert_json "$R/token.signed.json" '.signatures[0].certificates | length' 2
check "verify: the token-signed manifest" otatool verify -q "${ROOT[@]}" \
	"$R/token.signed.json"

# refusals: nothing written
for spec in "expired:expired" "sha1:weak-algorithm" "revoked-crl:revoked"; do
	name=${spec%%:*}
	cert=$name
	extra=()
	[ "$name" = revoked-crl ] && cert=revoked extra=(--crl "$C/inter.crl")
	expect_exit 6 "sign refuses: $name" otatool sign --key "$C/$cert.key" \
		--cert "$C/$cert.pem" --chain "$C/inter.pem" "${ROOT[@]}" \
		"${extra[@]}" -o "$R/$name.signed.json" "$R/m.json"
	assert_contains "$ERR" "refusing to sign"
	assert_contains "$ERR" "CN="
	assert_eq "$(wc -l <"$ERR")" 1 "sign refuses: $name: lines on stderr"
	assert_not_exists "$R/$name.signed.json"
	assert_no_temp "$R" "$name.signed.json"
done
expect_exit 6 "sign refuses: another root" otatool sign --key "$C/signer.key" \
	--cert "$C/signer.pem" --chain "$C/inter.pem" --trust "$C/other-root.pem" \
	-o "$R/other.signed.json" "$R/m.json"
assert_not_exists "$R/other.signed.json"
expect_exit 6 "sign refuses: the intermediate left out" otatool sign \
	--key "$C/signer.key" --cert "$C/signer.pem" "${ROOT[@]}" \
	-o "$R/noint.signed.json" "$R/m.json"
assert_not_exists "$R/noint.signed.json"
expect_exit 6 "sign refuses: --crl-required without a CRL" otatool sign \
	--key "$C/signer.key" --cert "$C/signer.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" --crl-required -o "$R/nocrl.signed.json" "$R/m.json"
assert_contains "$ERR" "and CRLs are required"
assert_not_exists "$R/nocrl.signed.json"
check "sign: --at when the expired certificate was valid" otatool sign -q \
	--key "$C/expired.key" --cert "$C/expired.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" --at "$AT_BEFORE" -o "$R/expired-at.signed.json" "$R/m.json"
assert_json "$R/expired-at.signed.json" '.signatures[0].certificates | length' 2

# ---------------------------------------------------------------- verify

check "verify --trust root" otatool verify "${ROOT[@]}" "$S"
assert_contains "$OUT" 'chain to "CN=Test Root" trusted'
assert_contains "$OUT" "verdict: VALID"
check "verify --trust root, --json" otatool verify --json "${ROOT[@]}" "$S"
assert_json "$OUT" .verdict '"valid"'
expect_exit 6 "verify --trust another root" otatool verify \
	--trust "$C/other-root.pem" "$S"
assert_contains "$OUT" "verdict: REFUSED"
assert_contains "$ERR" 'no issuer "CN=Test Root"'
check "verify --trust: a directory" otatool verify -q --trust "$TD" "$S"
check "verify --trust-key: the signer's public key alone" otatool verify \
	--trust-key "$C/signer.pub.pem" "$S"
assert_contains "$OUT" "verdict: VALID"
# An untrusted key without a chain is a failed verification (5), not an
# untrusted chain (6).
expect_exit 5 "verify --trust-key: another key, no --trust" otatool verify -q \
	--trust-key "$C/other-root.pem" "$S"
assert_contains "$ERR" "no signature is by a trusted key"
check "verify --crl: the signer is not revoked" otatool verify -q "${ROOT[@]}" \
	--crl "$C/crls.pem" --crl-required "$S"
expect_exit 6 "verify --at: after the signer expired" otatool verify -q \
	"${ROOT[@]}" --at "$AT_AFTER" "$S"
expect_exit 6 "verify: a certificate that expired since it signed" otatool \
	verify -q "${ROOT[@]}" "$R/expired-at.signed.json"
check "verify --at: when it was valid" otatool verify -q "${ROOT[@]}" \
	--at "$AT_BEFORE" "$R/expired-at.signed.json"

# revoked after signing: signed without the CRL, refused with it
check "sign: a certificate that is revoked, without the CRL" otatool sign -q \
	--key "$C/revoked.key" --cert "$C/revoked.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" -o "$R/revoked.signed.json" "$R/m.json"
check "verify: without the CRL" otatool verify -q "${ROOT[@]}" \
	"$R/revoked.signed.json"
expect_exit 6 "verify --crl: a revoked signer" otatool verify "${ROOT[@]}" \
	--crl "$C/inter.crl" "$R/revoked.signed.json"
assert_contains "$OUT" "verdict: REFUSED"
assert_contains "$ERR" '"CN=Revoked Signer" (depth 0) is revoked'

# ---------------------------------------------------------------- package

P=$R/release.otapkg
check "package with --cert, --chain and --trust" otatool package -q \
	--key "$C/signer.key" --cert "$C/signer.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" -o "$P" "$R/m.json"
assert_exists "$P"
check "verify --trust root: the package" otatool verify "${ROOT[@]}" \
	--hardware acme-sensor-rev-b --counter 7 --bootloader-version 1.2.0 "$P"
assert_contains "$OUT" 'chain to "CN=Test Root" trusted'
assert_contains "$OUT" "verdict: VALID"
expect_exit 6 "verify --trust another root: the package" otatool verify -q \
	--trust "$C/other-root.pem" "$P"
check "verify --trust-key: the package" otatool verify -q \
	--trust-key "$C/signer.pub.pem" "$P"
expect_exit 6 "package refuses: an expired signer" otatool package -q \
	--key "$C/expired.key" --cert "$C/expired.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" -o "$R/expired.otapkg" "$R/m.json"
assert_not_exists "$R/expired.otapkg"
assert_no_temp "$R" expired.otapkg
check "package: a revoked signer, without the CRL" otatool package -q \
	--key "$C/revoked.key" --cert "$C/revoked.pem" --chain "$C/inter.pem" \
	"${ROOT[@]}" -o "$R/revoked.otapkg" "$R/m.json"
expect_exit 6 "verify --crl: a package by a revoked signer" otatool verify -q \
	"${ROOT[@]}" --crl "$C/inter.crl" "$R/revoked.otapkg"

# ------------------------------------------------- package: SIGNING_TIME

# set_time PKG OUT SECONDS: PKG with its SIGNING_TIME TLV (type 9) set to
# SECONDS (a u64), written to OUT; prints the value's byte offset.
set_time() {
	python3 - "$@" <<'PY'
import struct, sys
src, dst, val = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = bytearray(open(src, 'rb').read())
end, pos = 64 + struct.unpack_from('<I', b, 16)[0], 64
while pos + 4 <= end:
    t, l = struct.unpack_from('<HH', b, pos)
    if t == 9 and l == 8:
        struct.pack_into('<Q', b, pos + 4, val)
        open(dst, 'wb').write(b)
        print(pos + 4)
        sys.exit(0)
    pos += 4 + ((l + 3) & ~3)
sys.exit('no SIGNING_TIME TLV')
PY
}

# A changed SIGNING_TIME is a forgery: the signature over the signed region
# says so (5), before any chain is judged at that time.
F=$R/forged.otapkg
for t in 17593982636503 18446744073709551615 2208988800 0; do
	set_time "$P" "$F" "$t" >/dev/null || die "set_time"
	expect_exit 5 "verify --trust: SIGNING_TIME forged as $t" otatool \
		verify "${ROOT[@]}" "$F"
	assert_matches "$OUT" '^\[ FAIL \] signature 0 +.*does not verify'
	assert_contains "$ERR" "$F: signature 0: "
	assert_contains "$ERR" "does not verify"
done
TOFF=$(set_time "$P" "$F" 0)
bad=
for bit in $(seq 0 63); do
	python3 -c 'import sys
src, dst, off, bit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
b = bytearray(open(src, "rb").read())
b[off + bit // 8] ^= 1 << (bit % 8)
open(dst, "wb").write(b)' "$P" "$F" "$TOFF" "$bit"
	run otatool verify -q "${ROOT[@]}" "$F"
	[ "$RC" = 5 ] && _sanitizer_clean || bad="$bad $bit:$RC"
done
LAST_NAME="verify --trust: each bit flip of SIGNING_TIME is exit 5"
if [ -z "$bad" ]; then pass; else fail "$LAST_NAME" "bit:status$bad"; fi
check "verify --trust: the package is intact after the flips" otatool \
	verify -q "${ROOT[@]}" "$P"

# inspect shows a recorded time as recorded, and says when it is out of
# range (ota_timestamp_format's result was ignored: the build time was
# shown as the signing time, and 2^64-1 as 1969-12-31T23:59:59Z).
for t in 17593982636503 18446744073709551615; do
	set_time "$P" "$F" "$t" >/dev/null
	check "inspect: SIGNING_TIME $t" otatool inspect "$F"
	assert_matches "$OUT" "^  signed at: +$t \\(out of range: after year 9999\\)\$"
	assert_not_contains "$OUT" "1969-12-31"
	check "inspect --json: SIGNING_TIME $t" otatool inspect --json "$F"
	assert_eq "$(jq -r .signing_time "$OUT")" null "signing_time"
	assert_eq "$(jq -r .signing_time_raw "$OUT")" "$t" "signing_time_raw"
done
set_time "$P" "$F" 1795510800 >/dev/null
check "inspect: an in-range SIGNING_TIME" otatool inspect "$F"
assert_matches "$OUT" '^  signed at: +2026-11-24T09:00:00Z$'
check "inspect --json: an in-range SIGNING_TIME" otatool inspect --json "$F"
assert_eq "$(jq -r .signing_time "$OUT")" 2026-11-24T09:00:00Z "signing_time"
assert_eq "$(jq -r .signing_time_raw "$OUT")" 1795510800 "signing_time_raw"
assert_eq "$(jq -r .build_time_raw "$OUT")" \
	"$(jq -r .build_time "$OUT" | xargs -I{} date -u -d {} +%s)" \
	"build_time_raw"

# ---------------------------------------------------------------- example

# examples/release-with-ca.sh makes its own token when none is configured.
check "examples/release-with-ca.sh" env -u OTATOOL_PKCS11_MODULE \
	-u OTATOOL_PKCS11_PIN -u SOFTHSM2_CONF OTATOOL="$OTATOOL" \
	bash "$OTATOOL_SRC/examples/release-with-ca.sh"
assert_contains "$OUT" "verdict: TRUSTED"
assert_contains "$OUT" "verdict: VALID"

finish
