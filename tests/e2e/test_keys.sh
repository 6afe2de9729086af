# End-to-end tests of `otatool keys`: key files checked with openssl, token
# keys in a SoftHSM token checked with pkcs11-tool and openssl.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl softhsm2-util pkcs11-tool setsid
if [ ! -f "$SOFTHSM_MODULE" ]; then
	echo "SoftHSM module $SOFTHSM_MODULE is missing (scripts/deps)" >&2
	exit 2
fi

TYPES=(ecdsa-p256 ecdsa-p384 rsa-2048 rsa-3072 rsa-4096 ed25519)

# What `openssl pkey -text` prints for each type: an independent check
# that the key is of the type asked for.
declare -A TEXT=(
	[ecdsa-p256]="ASN1 OID: prime256v1"
	[ecdsa-p384]="ASN1 OID: secp384r1"
	[rsa-2048]="Public-Key: (2048 bit)"
	[rsa-3072]="Public-Key: (3072 bit)"
	[rsa-4096]="Public-Key: (4096 bit)"
	[ed25519]="ED25519 Public-Key:"
)

# keyid_of PUBFILE: SHA-256 of the DER SubjectPublicKeyInfo, by openssl
# (PEM or DER input).
keyid_of() {
	openssl pkey -pubin -in "$1" -outform DER 2>/dev/null |
		sha256sum | cut -d' ' -f1
}

# hex_to_file HEX FILE: the bytes HEX spells (xxd is not a dependency).
hex_to_file() {
	# shellcheck disable=SC2001,SC2059 # the format is the point
	printf "$(sed 's/../\\x&/g' <<<"$1")" >"$2"
}

# sha FILE: content fingerprint, to show a file was left untouched.
sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

# ---------------------------------------------------------------- key files

K=$T/keys
mkdir -p "$K"

for ty in "${TYPES[@]}"; do
	priv=$K/$ty.pem
	pub=$K/$ty.pub.pem
	check "generate $ty to a file" \
		otatool keys generate --type "$ty" --key "$priv"
	id=$(cat "$OUT")
	assert_contains "$ERR" "$priv"
	assert_contains "$ERR" "$pub"
	assert_eq "$(stat -c %a "$priv" 2>/dev/null)" 600 "$ty private key mode"
	assert_eq "$(stat -c %a "$pub" 2>/dev/null)" 644 "$ty public key mode"
	assert_eq "$(head -n 1 "$priv")" "-----BEGIN PRIVATE KEY-----" \
		"$ty private key is unencrypted PKCS#8 PEM"
	check "$ty public key parses with openssl" \
		openssl pkey -pubin -in "$pub" -noout -text
	assert_contains "$OUT" "${TEXT[$ty]}"
	check "$ty private key parses with openssl" \
		openssl pkey -in "$priv" -pubout
	assert_same_file "$OUT" "$pub"
	assert_eq "$id" "$(keyid_of "$pub")" "$ty key id printed"
	assert_matches "$pub" '^-----END PUBLIC KEY-----$'
done

# Two generated keys are two different keys.
check "a second ecdsa-p256 key, --quiet" \
	otatool keys generate -q --type ecdsa-p256 --key "$K/second.pem"
assert_empty "$ERR"
assert_eq "$(cat "$OUT")" "$(keyid_of "$K/second.pub.pem")" \
	"--quiet still prints the key id"
[ "$(keyid_of "$K/second.pub.pem")" != "$(keyid_of "$K/ecdsa-p256.pub.pem")" ]
_assert $? "two generated P-256 keys have the same public key"

check "--public names the public key file" \
	otatool keys generate --type ed25519 --key "$K/named.key" \
	--public "$K/elsewhere.pem"
assert_exists "$K/elsewhere.pem"
assert_not_exists "$K/named.key.pub.pem"
assert_eq "$(cat "$OUT")" "$(keyid_of "$K/elsewhere.pem")" "--public key id"
check "--public key belongs to the private key" \
	openssl pkey -in "$K/named.key" -pubout
assert_same_file "$OUT" "$K/elsewhere.pem"

check "generate --json" \
	otatool keys generate --json --type ecdsa-p384 --key "$K/j.pem"
assert_json "$OUT" 'keys_unsorted' '["type","key","keyid","public"]'
assert_json "$OUT" '.type' '"ecdsa-p384"'
assert_json "$OUT" '.key' "$(q "$K/j.pem")"
assert_json "$OUT" '.public' "$(q "$K/j.pub.pem")"
assert_json "$OUT" '.keyid' "$(q "$(keyid_of "$K/j.pub.pem")")"

# Never overwrite: neither half of an existing key is touched.
before_priv=$(sha "$K/ecdsa-p256.pem")
before_pub=$(sha "$K/ecdsa-p256.pub.pem")
expect_exit 4 "generate over an existing key" \
	otatool keys generate --type ed25519 --key "$K/ecdsa-p256.pem"
assert_contains "$ERR" "$K/ecdsa-p256.pem"
assert_contains "$ERR" "already exists"
assert_empty "$OUT"
assert_eq "$(sha "$K/ecdsa-p256.pem")" "$before_priv" "private key unchanged"
assert_eq "$(sha "$K/ecdsa-p256.pub.pem")" "$before_pub" "public key unchanged"
assert_eq "$(stat -c %a "$K/ecdsa-p256.pem")" 600 "private key mode unchanged"
assert_no_temp "$K" ecdsa-p256.pem

echo "not a key" >"$K/lonely.pub.pem"
expect_exit 4 "generate when only the public file exists" \
	otatool keys generate --type ecdsa-p256 --key "$K/lonely.pem"
assert_contains "$ERR" "$K/lonely.pub.pem"
assert_not_exists "$K/lonely.pem"
assert_eq "$(cat "$K/lonely.pub.pem")" "not a key" "public file unchanged"

expect_exit 4 "--public at an existing file" \
	otatool keys generate --type ecdsa-p256 --key "$K/new.pem" \
	--public "$K/rsa-2048.pub.pem"
assert_contains "$ERR" "$K/rsa-2048.pub.pem"
assert_not_exists "$K/new.pem"
assert_eq "$(keyid_of "$K/rsa-2048.pub.pem")" \
	"$(openssl pkey -in "$K/rsa-2048.pem" -pubout -outform DER |
		sha256sum | cut -d' ' -f1)" "existing public key unchanged"

expect_exit 2 "unknown key type" \
	otatool keys generate --type ecdsa-p521 --key "$K/bad.pem"
assert_contains "$ERR" '"ecdsa-p521"'
assert_contains "$ERR" "ecdsa-p256"
assert_not_exists "$K/bad.pem"
assert_not_exists "$K/bad.pub.pem"

expect_exit 2 "generate without --type" \
	otatool keys generate --key "$K/bad.pem"
assert_contains "$ERR" "--type"
assert_not_exists "$K/bad.pem"

expect_exit 2 "unknown keys action" otatool keys generat --type ed25519
assert_contains "$ERR" "generat"

# ---------------------------------------------------------------- export-public

for ty in "${TYPES[@]}"; do
	priv=$K/$ty.pem
	pub=$K/$ty.pub.pem
	openssl pkey -in "$priv" -pubout -out "$K/$ty.ossl.pem"
	openssl pkey -in "$priv" -pubout -outform DER -out "$K/$ty.ossl.der"
	openssl req -x509 -new -key "$priv" -subj "/CN=otatool test $ty" \
		-days 30 -out "$K/$ty.crt" 2>/dev/null
	id=$(keyid_of "$K/$ty.ossl.pem")

	check "export-public of a $ty private key" \
		otatool keys export-public "$priv"
	assert_same_file "$OUT" "$K/$ty.ossl.pem"
	assert_contains "$ERR" "$id"

	check "export-public of a $ty public key" \
		otatool keys export-public "$pub"
	assert_same_file "$OUT" "$K/$ty.ossl.pem"
	assert_contains "$ERR" "key id $id"

	check "export-public of a $ty certificate" \
		otatool keys export-public "$K/$ty.crt"
	assert_same_file "$OUT" "$K/$ty.ossl.pem"

	check "export-public --format der of a $ty public key" \
		otatool keys export-public --format der -o "$K/$ty.out.der" "$pub"
	assert_same_file "$K/$ty.out.der" "$K/$ty.ossl.der"

	rm -f "$K/$ty.out.der"
	check "export-public --format der of a $ty private key" \
		otatool keys export-public --format der -o "$K/$ty.out.der" "$priv"
	assert_same_file "$K/$ty.out.der" "$K/$ty.ossl.der"
done

check "export-public --json" \
	otatool keys export-public --json "$K/ed25519.pub.pem"
assert_json "$OUT" '.keyid' "$(q "$(keyid_of "$K/ed25519.pub.pem")")"
assert_json "$OUT" '.key' "$(q "$K/ed25519.pub.pem")"

check "export-public of a DER public key" \
	otatool keys export-public "$K/rsa-3072.ossl.der"
assert_same_file "$OUT" "$K/rsa-3072.ossl.pem"

expect_exit 2 "export-public --format xml" \
	otatool keys export-public --format xml "$K/ed25519.pub.pem"
assert_contains "$ERR" "xml"

expect_exit 3 "export-public of a nonexistent file" \
	otatool keys export-public -o "$K/none.pem" "$K/nope.pem"
assert_contains "$ERR" "$K/nope.pem"
assert_not_exists "$K/none.pem"

head -c 300 /dev/urandom >"$K/garbage.bin"
expect_exit 3 "export-public of a file that holds no key" \
	otatool keys export-public -o "$K/none.pem" "$K/garbage.bin"
assert_contains "$ERR" "$K/garbage.bin"
assert_empty "$OUT"
assert_not_exists "$K/none.pem"

# ---------------------------------------------------------------- token keys

HSM=$T/softhsm
make_token "$HSM" release

# p11 ARGS...: pkcs11-tool on the test token (its chatter on stderr dropped).
p11() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label release "$@" \
		2>/dev/null
}

# p11_objects: the token's objects as pkcs11-tool lists them, one a line:
# CLASS TAB TYPE TAB LABEL TAB ID TAB USAGE TAB ACCESS TAB EC_POINT (CLASS
# is Private, Public, ...; TYPE is EC, RSA or EC_EDWARDS).
p11_objects() {
	p11 --login --pin 1234 --list-objects | awk -v OFS='\t' '
		function flush() {
			if (cls != "")
				print cls, type, label, id, usage, access, point
		}
		/ Object;/ {
			flush()
			cls = $1
			t = $0
			sub(/^[^;]*; */, "", t)
			split(t, w, " ")
			type = w[1]
			label = id = usage = access = point = ""
			next
		}
		/^  EC_POINT:/ { point = $2; next }
		/^  label:/ { sub(/^  label: */, ""); label = $0; next }
		/^  ID:/ { id = $2; next }
		/^  Usage:/ { sub(/^  Usage: */, ""); usage = $0; next }
		/^  Access:/ { sub(/^  Access: */, ""); access = $0; next }
		END { flush() }'
}

# p11_field CLASS LABEL N: field N of that object's p11_objects line.
p11_field() {
	p11_objects | awk -F '\t' -v c="$1" -v l="$2" -v n="$3" \
		'$1 == c && $3 == l { print $n }'
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
		'$1 == "Public" && $4 == id { print $7 }')
	# 04 61 <97-byte uncompressed point>: a P-384 point in an OCTET STRING.
	[[ $point =~ ^046104[0-9a-f]{192}$ ]] || return 1
	hex_to_file 3076301006072a8648ce3d020106052b81040022036200"${point:4}" \
		"$2.raw" &&
		openssl pkey -pubin -inform DER -in "$2.raw" -out "$2"
}

declare -A TOKTYPE=(
	[ecdsa-p256]=EC [ecdsa-p384]=EC [rsa-2048]=RSA [rsa-3072]=RSA
	[rsa-4096]=RSA [ed25519]=EC_EDWARDS
)
declare -A LISTTYPE=(
	[ecdsa-p256]='"ec"' [ecdsa-p384]='"ec"' [rsa-2048]='"rsa"'
	[rsa-3072]='"rsa"' [rsa-4096]='"rsa"' [ed25519]='"ec-edwards"'
)
declare -A LISTSIZE=(
	[ecdsa-p256]='"P-256"' [ecdsa-p384]='"P-384"' [rsa-2048]=2048
	[rsa-3072]=3072 [rsa-4096]=4096 [ed25519]='"Ed25519"'
)

for ty in "${TYPES[@]}"; do
	label=ota-$ty
	uri="pkcs11:token=release;object=$label"
	check "generate $ty in the token" \
		otatool keys generate --type "$ty" --key "$uri"
	id=$(cat "$OUT")
	assert_contains "$ERR" "object=$label"
	assert_contains "$ERR" "type=private"

	LAST_NAME="token $ty objects (pkcs11-tool)"
	privid=$(p11_field Private "$label" 4)
	pubid=$(p11_field Public "$label" 4)
	assert_matches <(echo "$privid") '^[0-9a-f]{2,}$'
	assert_eq "$pubid" "$privid" "$ty public and private objects' CKA_ID"
	assert_eq "$(p11_objects | awk -F '\t' -v l="$label" '$3 == l' | wc -l)" 2 \
		"$ty: exactly two objects labelled $label"
	assert_eq "$(p11_field Private "$label" 2)" "${TOKTYPE[$ty]}" \
		"$ty private key type"
	assert_eq "$(p11_field Public "$label" 2)" "${TOKTYPE[$ty]}" \
		"$ty public key type"
	usage=$(p11_field Private "$label" 5)
	access=$(p11_field Private "$label" 6)
	assert_matches <(echo "$usage") '(^|, )sign(,|$)'
	assert_matches <(echo "$access") '(^|, )sensitive(,|$)'
	assert_matches <(echo "$access") '(^|, )never extractable(,|$)'
	# "extractable" alone would be CKA_EXTRACTABLE = true.
	assert_not_contains <(echo ", $access,") ", extractable,"
	assert_matches <(p11_field Public "$label" 5) '(^|, )verify(,|$)'

	LAST_NAME="token $ty public key"
	if p11_pub "$privid" "$HSM/$ty.p11.pem"; then
		pass
	else
		fail "pkcs11-tool --read-object --type pubkey --id $privid"
	fi
	assert_eq "$id" "$(keyid_of "$HSM/$ty.p11.pem")" "$ty token key id printed"
	check "$ty token public key with openssl" \
		openssl pkey -pubin -in "$HSM/$ty.p11.pem" -noout -text
	assert_contains "$OUT" "${TEXT[$ty]}"

	check "export-public of the $ty token key" \
		otatool keys export-public "$uri"
	assert_same_file "$OUT" "$HSM/$ty.p11.pem"
	assert_contains "$ERR" "$id"

	check "export-public --format der of the $ty token key" \
		otatool keys export-public --format der -o "$HSM/$ty.out.der" "$uri"
	openssl pkey -pubin -in "$HSM/$ty.p11.pem" -outform DER \
		-out "$HSM/$ty.p11.der"
	assert_same_file "$HSM/$ty.out.der" "$HSM/$ty.p11.der"

	check "keys list --json for $ty" otatool keys list --json "$uri"
	assert_json "$OUT" '[.tokens[].objects[].class] | sort' \
		'["private-key","public-key"]'
	assert_json "$OUT" '[.tokens[].objects[].label] | unique' "[\"$label\"]"
	assert_json "$OUT" '[.tokens[].objects[].id] | unique' "[\"$privid\"]"
	assert_json "$OUT" '[.tokens[].objects[].key_type] | unique' \
		"[${LISTTYPE[$ty]}]"
	assert_json "$OUT" '[.tokens[].objects[] | .bits // .curve] | unique' \
		"[${LISTSIZE[$ty]}]"
	assert_json "$OUT" '[.tokens[].objects[].uri | test(";object='"$label"';type=(private|public)$")] | unique' \
		'[true]'
done

check "generate --json in the token" \
	otatool keys generate --json --type ecdsa-p256 \
	--key "pkcs11:token=release;object=json-key;id=%0a%0b"
assert_json "$OUT" '.type' '"ecdsa-p256"'
assert_json "$OUT" '.public' 'null'
assert_json "$OUT" '.key | test("^pkcs11:.*token=release")' 'true'
assert_json "$OUT" '.key | test("id=%0[aA]%0[bB]")' 'true'
assert_json "$OUT" '.key | test("object=json-key")' 'true'
assert_json "$OUT" '.key | test("type=private")' 'true'
p11_pub 0a0b "$HSM/json-key.pem"
assert_json "$OUT" '.keyid' "$(q "$(keyid_of "$HSM/json-key.pem")")"
assert_eq "$(p11_field Private json-key 4)" 0a0b "given CKA_ID used"

# A key made by another tool is listed and exported the same way.
LAST_NAME="pkcs11-tool --keypairgen"
if p11 --login --pin 1234 --keypairgen --key-type EC:prime256v1 --label X \
	--id 42 >/dev/null; then
	pass
else
	fail "pkcs11-tool --keypairgen failed"
fi
p11_pub 42 "$HSM/X.pem"

# table_row CLASS LABEL: the object's line of the `keys list` table in
# $OUT, as space-separated words with a space at each end.
table_row() {
	awk -v c="$1" -v l="$2" '$1 == c && $2 == l { $1 = $1; print " " $0 " " }' \
		"$OUT"
}

# assert_row CLASS LABEL WORD...: the row exists once and has every WORD.
assert_row() {
	local row w

	row=$(table_row "$1" "$2")
	assert_eq "$(grep -c . <<<"$row")" 1 "one table row for $1 $2"
	for w in "${@:3}"; do
		[[ $row == *" $w "* ]]
		_assert $? "table row for $1 $2 lacks '$w': $row"
	done
}

check "keys list (table)" otatool keys list
assert_matches "$OUT" "^token 'release' \\(slot [0-9]+, SoftHSM project SoftHSM v2, serial [0-9a-f]+\\)$"
assert_row private-key X ec P-256
assert_row public-key X ec P-256
assert_matches <(table_row private-key X) ' id[= ]?42 '
for ty in "${TYPES[@]}"; do
	assert_matches <(table_row private-key "ota-$ty") \
		" id[= ]?$(p11_field Private "ota-$ty" 4) "
	assert_matches <(table_row public-key "ota-$ty") \
		" id[= ]?$(p11_field Public "ota-$ty" 4) "
done
assert_row private-key ota-rsa-3072 rsa 3072
assert_row private-key ota-rsa-4096 rsa 4096
assert_row private-key ota-ecdsa-p384 ec P-384
assert_row private-key ota-ed25519 Ed25519
assert_matches "$OUT" '^    pkcs11:.*token=release;id=%42;object=X;type=private$'
assert_empty "$ERR"

check "keys list --json" otatool keys list --json
assert_json "$OUT" '.tokens | length' 1
assert_json "$OUT" '.tokens[0].label' '"release"'
assert_json "$OUT" '.tokens[0].login' 'true'
assert_json "$OUT" '.tokens[0].module' "$(q "$SOFTHSM_MODULE")"
assert_json "$OUT" '.tokens[0].flags | index("token-initialized") != null' \
	'true'
assert_json "$OUT" '[.tokens[0].objects[].label] | unique' \
	'["X","json-key","ota-ecdsa-p256","ota-ecdsa-p384","ota-ed25519","ota-rsa-2048","ota-rsa-3072","ota-rsa-4096"]'
assert_json "$OUT" '.tokens[0].objects | length' 16
assert_json "$OUT" '[.tokens[0].objects[] | select(.label == "X") | [.class, .id, .key_type, .curve]] | sort' \
	'[["private-key","42","ec","P-256"],["public-key","42","ec","P-256"]]'
assert_json "$OUT" '[.tokens[0].objects[] | select(.label == "X") | .uri | test(";id=%42;object=X;")] | unique' \
	'[true]'
# The listed URI names exactly that key.
xuri=$(json "$OUT" '.tokens[0].objects[] | select(.label == "X" and .class == "private-key") | .uri')
check "export-public by the URI keys list gives" \
	otatool keys export-public "$xuri"
assert_same_file "$OUT" "$HSM/X.pem"

check "export-public by id" otatool keys export-public "pkcs11:token=release;id=%42"
assert_same_file "$OUT" "$HSM/X.pem"
assert_contains "$ERR" "$(keyid_of "$HSM/X.pem")"

check "keys list with an object filter" \
	otatool keys list --json "pkcs11:token=release;object=X"
assert_json "$OUT" '[.tokens[0].objects[].label]' '["X","X"]'

# Documented in otatool/pkcs11.h: without a PIN source, list shows the
# public objects and says "login": false. setsid: no terminal to prompt on.
check "keys list without a PIN" \
	setsid -w env -u OTATOOL_PKCS11_PIN otatool keys list --json
assert_json "$OUT" '.tokens[0].login' 'false'
assert_json "$OUT" '[.tokens[0].objects[].class] | unique' '["public-key"]'
assert_json "$OUT" '[.tokens[0].objects[] | select(.label == "X") | .id]' \
	'["42"]'

count_objects() {
	p11_objects | wc -l
}
n_before=$(count_objects)

expect_exit 7 "generate over an existing label" \
	otatool keys generate --type ed25519 --key "pkcs11:token=release;object=X"
assert_contains "$ERR" "object=X"
assert_contains "$ERR" "labelled 'X'"
assert_empty "$OUT"
assert_eq "$(count_objects)" "$n_before" "no object added"
p11_pub 42 "$HSM/X.after.pem"
assert_same_file "$HSM/X.after.pem" "$HSM/X.pem"

expect_exit 7 "generate with an existing id" \
	otatool keys generate --type ecdsa-p256 \
	--key "pkcs11:token=release;object=fresh;id=%42"
assert_contains "$ERR" "id 42"
assert_eq "$(count_objects)" "$n_before" "no object added"
assert_eq "$(p11_field Private fresh 4)" "" "no 'fresh' key"

expect_exit 7 "generate over a label made by otatool" \
	otatool keys generate --type rsa-2048 \
	--key "pkcs11:token=release;object=ota-ecdsa-p256"
assert_contains "$ERR" "ota-ecdsa-p256"
assert_eq "$(count_objects)" "$n_before" "no object added"

expect_exit 2 "generate in the token without object=" \
	otatool keys generate --type ed25519 --key "pkcs11:token=release"
assert_contains "$ERR" "object="
assert_eq "$(count_objects)" "$n_before" "no object added"

expect_exit 2 "generate an unknown type in the token" \
	otatool keys generate --type dsa-1024 \
	--key "pkcs11:token=release;object=dsa"
assert_contains "$ERR" "dsa-1024"
assert_eq "$(count_objects)" "$n_before" "no object added"

expect_exit 7 "generate in an unknown token" \
	otatool keys generate --type ed25519 --key "pkcs11:token=nosuch;object=k"
assert_contains "$ERR" "token=nosuch"
assert_contains "$ERR" "'release'"

expect_exit 7 "list with a wrong PIN" \
	env OTATOOL_PKCS11_PIN=98765123 otatool keys list
assert_contains "$ERR" "CKR_PIN_INCORRECT"
assert_not_contains "$ERR" "98765123"
assert_not_contains "$OUT" "98765123"

expect_exit 2 "pin-value in a URI on the command line" \
	otatool keys list "pkcs11:token=release?pin-value=55501234"
assert_contains "$ERR" "pin-value"
assert_not_contains "$ERR" "55501234"
assert_empty "$OUT"

expect_exit 2 "keys list of a file" otatool keys list "$K/ed25519.pem"
assert_contains "$ERR" "not a pkcs11: URI"

finish
