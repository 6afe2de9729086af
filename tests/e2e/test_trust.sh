# End-to-end tests of `otatool trust` (root records, otatool-root(5)) and
# `otatool verify --root` and `--threshold`: real keys in files (P-256,
# P-384, Ed25519, RSA) and in a SoftHSM token; every record read back by an
# independent reader (tests/e2e/root_record.py, python3-cryptography) that
# checks key ids and every signature; TUF's rotation cases through the CLI;
# a verifier catching up over three rotations; revocation of a release
# key; bit flips over a record never accepted.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

require openssl python3 cmp

READER=$OTATOOL_SRC/tests/e2e/root_record.py
K=$T/keys
R=$T/rec
P=$T/pkg
W=$T/rel
mkdir -p "$K" "$R" "$P" "$W/img"

for k in rootA:ecdsa-p256 rootB:ed25519 rootC:ecdsa-p384 rootD:ecdsa-p256 \
	rel1:ecdsa-p256 rel3:ed25519 rel4:ecdsa-p256; do
	otatool keys generate -q --type "${k#*:}" --key "$K/${k%%:*}.pem" \
		>/dev/null || die "keys generate ${k%%:*}"
done
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 \
	-out "$K/rel2.pem" 2>/dev/null || die "openssl genpkey"
openssl pkey -in "$K/rel2.pem" -pubout -out "$K/rel2.pub.pem" ||
	die "openssl pkey"

# id KEY: the key id, SHA-256 of the DER SubjectPublicKeyInfo, by openssl
spki_id() {
	openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -c1-64
}
id() {
	spki_id "$K/$1.pub.pem"
}
# reader RECORD FILTER EXPECTED: the independent reader's view
reader() {
	python3 "$READER" "$1" >"$T/reader.json" 2>"$T/reader.err"
	_assert $? "root_record.py $1: $(cat "$T/reader.err")"
	assert_json "$T/reader.json" "$2" "$3"
}

# ------------------------------------------------------------- init

expect_exit 5 "init: one of two root keys signed, threshold 2" \
	otatool trust init --root-key "$K/rootA.pub.pem" \
	--root-key "$K/rootB.pub.pem" --root-threshold 2 \
	--release-key "$K/rel1.pub.pem" --key "$K/rootA.pem" -o "$R/v1.otar"
assert_contains "$ERR" "signed by 1 of its own root keys; its threshold is 2"
assert_not_exists "$R/v1.otar"
assert_no_temp "$R" v1.otar

check "init: --partial, then trust sign by the second key" \
	otatool trust init --root-key "$K/rootA.pub.pem" \
	--root-key "$K/rootB.pub.pem" --root-threshold 2 \
	--release-key "$K/rel1.pub.pem" --key "$K/rootA.pem" --partial \
	-o "$R/v1.partial"
assert_contains "$ERR" "thresholds not met yet"
expect_exit 5 "show: a partial record is not valid" \
	otatool trust show "$R/v1.partial"
check "trust sign adds the second signature" \
	otatool trust sign "$R/v1.partial" --key "$K/rootB.pem" -o "$R/v1.otar"
check "show v1" otatool trust show "$R/v1.otar"
assert_contains "$OUT" "root record version 1"
assert_contains "$OUT" "thresholds         met"
check "show v1 --json" otatool trust show --json "$R/v1.otar"
cp "$OUT" "$T/v1.json"
assert_json "$T/v1.json" '.version' '1'
assert_json "$T/v1.json" '.root_threshold' '2'
assert_json "$T/v1.json" '[.keys[] | select(.role == "release") | .id]' \
	"[$(q "$(id rel1)")]"
assert_json "$T/v1.json" '.self_signed_threshold_met' 'true'
reader "$R/v1.otar" '[.signatures[].valid]' '[true,true]'
reader "$R/v1.otar" '[.keys[].id] | sort' \
	"$(printf '%s\n' "$(id rootA)" "$(id rootB)" "$(id rel1)" | sort | jq -Rcs 'split("\n")[:-1]')"
reader "$R/v1.otar" '[.keys[] | select(.alg == "ed25519") | .role]' '["root"]'
# one encoding: the signed part is the same however the record was signed
check "init in one go" \
	otatool trust init --root-key "$K/rootB.pub.pem" \
	--root-key "$K/rootA.pub.pem" --root-threshold 2 \
	--release-key "$K/rel1.pub.pem" --key "$K/rootA.pem" \
	--key "$K/rootB.pem" -o "$R/v1b.otar"
L=$(od -An -tu4 -j8 -N4 "$R/v1.otar" | tr -d ' ')
cmp -s -n "$L" "$R/v1.otar" "$R/v1b.otar"
_assert $? "the signed parts of v1 made two ways differ"

expect_exit 2 "init: a threshold above the keys" \
	otatool trust init --root-key "$K/rootA.pub.pem" --root-threshold 2 \
	--release-key "$K/rel1.pub.pem" --key "$K/rootA.pem" -o "$R/x.otar"
expect_exit 2 "init: a key listed twice" \
	otatool trust init --root-key "$K/rootA.pub.pem" \
	--release-key "$K/rootA.pub.pem" --key "$K/rootA.pem" -o "$R/x.otar"
expect_exit 2 "init: no release key" \
	otatool trust init --root-key "$K/rootA.pub.pem" --key "$K/rootA.pem" \
	-o "$R/x.otar"
assert_not_exists "$R/x.otar"

# ------------------------------------------------------------- rotations

check "rotate v2: add an RSA release key, release threshold 2" \
	otatool trust rotate "$R/v1.otar" --release-key "$K/rel2.pub.pem" \
	--release-threshold 2 --key "$K/rootA.pem" --key "$K/rootB.pem" \
	-o "$R/v2.otar"
reader "$R/v2.otar" '.version' '2'
reader "$R/v2.otar" '.release_threshold' '2'
reader "$R/v2.otar" "[.keys[] | select(.id == $(q "$(id rel2)")) | .generation, .alg]" '[2,"rsa-pss"]'
reader "$R/v2.otar" '[.signatures[].valid]' '[true,true]'

# v3 rotates the root keys: A out, C in; B is in both and counts for both
expect_exit 5 "rotate v3: signed by the new root keys only" \
	otatool trust rotate "$R/v2.otar" --remove-key "$K/rootA.pub.pem" \
	--root-key "$K/rootC.pub.pem" --key "$K/rootB.pem" \
	--key "$K/rootC.pem" -o "$R/v3.otar"
assert_contains "$ERR" "signed by 1 root key of version 2, which requires 2"
expect_exit 5 "rotate v3: signed by the old root keys only" \
	otatool trust rotate "$R/v2.otar" --remove-key "$K/rootA.pub.pem" \
	--root-key "$K/rootC.pub.pem" --key "$K/rootA.pem" \
	--key "$K/rootB.pem" -o "$R/v3.otar"
assert_contains "$ERR" "signed by 1 of its own root keys, and requires 2"
assert_not_exists "$R/v3.otar"
check "rotate v3: old and new, two steps" \
	otatool trust rotate "$R/v2.otar" --remove-key "$(id rootA)" \
	--root-key "$K/rootC.pub.pem" --key "$K/rootA.pem" --partial \
	-o "$R/v3.partial"
expect_exit 5 "show --previous: the partial v3" \
	otatool trust show --previous "$R/v2.otar" "$R/v3.partial"
check "trust sign --previous: B and C complete it" \
	otatool trust sign "$R/v3.partial" --previous "$R/v2.otar" \
	--key "$K/rootB.pem" --key "$K/rootC.pem" -o "$R/v3.otar"
check "show --previous v3" otatool trust show --previous "$R/v2.otar" "$R/v3.otar"
reader "$R/v3.otar" '[.signatures[] | select(.valid) | .keyid] | length' '2'

check "revoke v4: release key 1 leaked; a new one comes" \
	otatool trust revoke "$R/v3.otar" --revoke-key "$K/rel1.pub.pem" \
	--release-key "$K/rel3.pub.pem" --key "$K/rootB.pem" \
	--key "$K/rootC.pem" -o "$R/v4.otar"
reader "$R/v4.otar" '.revoked' "[$(q "$(id rel1)")]"
reader "$R/v4.otar" "[.keys[] | select(.id == $(q "$(id rel1)"))] | length" '0'
reader "$R/v4.otar" "[.keys[] | select(.id == $(q "$(id rel3)")) | .generation]" '[4]'
expect_exit 2 "a revoked key cannot come back" \
	otatool trust rotate "$R/v4.otar" --release-key "$K/rel1.pub.pem" \
	--key "$K/rootB.pem" --key "$K/rootC.pem" -o "$R/x.otar"
expect_exit 2 "revoke needs --revoke-key" \
	otatool trust revoke "$R/v4.otar" --key "$K/rootB.pem" -o "$R/x.otar"

# ------------------------------------------------------------- packages

cat >"$W/release.yaml" <<'EOF'
name: fleet-fw
version: 1.0.0
hardware: [board-a]
security_counter: 1
images:
  - name: app
    kind: application
    file: img/app.bin
EOF
head -c 3000 /dev/urandom >"$W/img/app.bin"
make_git_repo "$W"
pkg() { # NAME KEY...
	local name=$1 args=()
	shift
	for k; do args+=(--key "$K/$k.pem"); done
	(in_dir "$W" otatool package -q "${args[@]}" --alignment 16 \
		-o "$P/$name.otapkg" release.yaml) || die "package $name"
}
pkg p1 rel1
pkg p12 rel1 rel2
pkg p11 rel1 rel1
pkg p23 rel2 rel3
pkg p3 rel3

check "v1 trusts release key 1" otatool verify --root "$R/v1.otar" "$P/p1.otapkg"
assert_contains "$OUT" "[  ok  ] root record"
assert_contains "$OUT" "release keys           1 of root record version 1"
expect_exit 5 "v1 does not trust release key 3" \
	otatool verify -q --root "$R/v1.otar" "$P/p3.otapkg"
expect_exit 5 "v2: threshold 2, one key" \
	otatool verify --root "$R/v1.otar" --root "$R/v2.otar" "$P/p1.otapkg"
assert_contains "$OUT" "[ FAIL ] threshold              1 distinct trusted key signed; 2 required"
assert_contains "$OUT" "[ skip ] image app"
expect_exit 5 "v2: the same key twice counts once" \
	otatool verify --root "$R/v1.otar" --root "$R/v2.otar" "$P/p11.otapkg"
check "v2: two distinct release keys" \
	otatool verify --root "$R/v1.otar" --root "$R/v2.otar" "$P/p12.otapkg"
assert_contains "$OUT" "[  ok  ] threshold              2 distinct trusted keys signed; 2 required"

expect_exit 5 "skipped version: v1 then v4" \
	otatool verify --root "$R/v1.otar" --root "$R/v4.otar" "$P/p23.otapkg"
assert_contains "$OUT" "skips versions 2..3"
check "catching up over three rotations, records in any order" \
	otatool verify --root "$R/v1.otar" --root "$R/v4.otar" \
	--root "$R/v2.otar" --root "$R/v3.otar" "$P/p23.otapkg"
[ "$(grep -c '\[  ok  \] root rotation' "$OUT")" = 3 ]
_assert $? "three rotation lines: $(cat "$OUT")"
check "--json: the root lines are checks" \
	otatool verify --json --root "$R/v1.otar" --root "$R/v2.otar" \
	--root "$R/v3.otar" --root "$R/v4.otar" "$P/p23.otapkg"
assert_json "$OUT" '[.checks[] | select(.check == "root rotation") | .result]' '["ok","ok","ok"]'
assert_json "$OUT" '.distinct_signers' '2'
assert_json "$OUT" '.threshold' '2'
# records carried by the package: the device holds v1 only
(in_dir "$W" otatool package -q --key "$K/rel2.pem" --key "$K/rel3.pem" \
	--alignment 16 --root-record "$R/v4.otar" --root-record "$R/v2.otar" \
	--root-record "$R/v3.otar" --root-record "$R/v3.otar" \
	-o "$P/carry.otapkg" release.yaml) || die "package carry"
check "inspect: the records in the unprotected region" \
	otatool inspect --json "$P/carry.otapkg"
assert_json "$OUT" '[.unprotected_region.entries[].type]' \
	'["root_record","root_record","root_record"]'
# the signed bytes are those of the same package without records
TOTAL=$(od -An -tu8 -j32 -N8 "$P/carry.otapkg" | tr -d ' ')
TYPE=$(od -An -tx2 -j"$TOTAL" -N2 "$P/carry.otapkg" | tr -d ' ')
[ "$TYPE" = 8010 ] && [ "$(head -c $((TOTAL + 8)) "$P/carry.otapkg" | tail -c 4)" = OTAR ]
_assert $? "the region after the signed $TOTAL bytes starts with a ROOT_RECORD (type $TYPE)"
check "catching up from the package alone" \
	otatool verify --root "$R/v1.otar" "$P/carry.otapkg"
[ "$(grep -c '\[  ok  \] root rotation' "$OUT")" = 3 ]
_assert $? "three rotations walked from the package: $(cat "$OUT")"
expect_exit 2 "package: --root-record is for the otatool format" \
	otatool package --format mcuboot --key "$K/rel2.pem" \
	--root-record "$R/v2.otar" -o "$P/x.bin" "$W/release.yaml"
expect_exit 3 "package: a record that cannot be read: nothing written" \
	otatool package --key "$K/rel2.pem" --root-record "$K/rel2.pem" \
	-o "$P/x.otapkg" "$W/release.yaml"
assert_not_exists "$P/x.otapkg"

expect_exit 5 "revoked: release key 1 under v4" \
	otatool verify --root "$R/v1.otar" --root "$R/v2.otar" \
	--root "$R/v3.otar" --root "$R/v4.otar" "$P/p12.otapkg"
assert_contains "$OUT" "is revoked by the root record"
check "rollback: an older record after a newer one is ignored" \
	otatool verify --root "$R/v3.otar" --root "$R/v2.otar" "$P/p12.otapkg"
assert_contains "$OUT" "[ skip ] root rotation          version 2: older than version 3 in force: ignored"
expect_exit 5 "a record that does not meet its own threshold is not trusted" \
	otatool verify --root "$R/v1.partial" "$P/p1.otapkg"

# two histories: another v2, signed by the same root keys
check "a second v2" \
	otatool trust rotate "$R/v1.otar" --expires 2100-01-01T00:00:00Z \
	--key "$K/rootA.pem" --key "$K/rootB.pem" -o "$R/v2fork.otar"
expect_exit 5 "two records of one version are refused" \
	otatool verify --root "$R/v2.otar" --root "$R/v2fork.otar" "$P/p12.otapkg"
assert_contains "$OUT" "two histories"
expect_exit 2 "package: two different records of one version" \
	in_dir "$W" otatool package -q --key "$K/rel2.pem" --alignment 16 \
	--root-record "$R/v2.otar" --root-record "$R/v2fork.otar" \
	-o "$P/x.otapkg" release.yaml
assert_contains "$ERR" "two different root records of version 2"
assert_not_exists "$P/x.otapkg"

# expiry: judged at --at or now, for the record in force only
check "an expired v1" \
	otatool trust init --root-key "$K/rootA.pub.pem" \
	--release-key "$K/rel1.pub.pem" --expires 2001-01-01T00:00:00Z \
	--key "$K/rootA.pem" -o "$R/old.otar"
expect_exit 5 "expired root record" \
	otatool verify --root "$R/old.otar" "$P/p1.otapkg"
assert_contains "$OUT" "expired at 2001-01-01T00:00:00Z"
check "before its expiry (--at)" \
	otatool verify --at 2000-06-01T00:00:00Z --root "$R/old.otar" "$P/p1.otapkg"
check "an expired record on the way to a newer one" \
	otatool trust rotate "$R/old.otar" --expires never \
	--key "$K/rootA.pem" -o "$R/old2.otar"
check "walked past it" \
	otatool verify --root "$R/old.otar" --root "$R/old2.otar" "$P/p1.otapkg"

expect_exit 2 "--root does not combine with --trust-key" \
	otatool verify --root "$R/v1.otar" --trust-key "$K/rel1.pub.pem" "$P/p1.otapkg"

# --threshold with plain keys
check "--threshold 2, two keys" \
	otatool verify --trust-key "$K/rel1.pub.pem" --trust-key "$K/rel2.pub.pem" \
	--threshold 2 "$P/p12.otapkg"
expect_exit 5 "--threshold 2, one key signed twice" \
	otatool verify --trust-key "$K/rel1.pub.pem" --trust-key "$K/rel2.pub.pem" \
	--threshold 2 "$P/p11.otapkg"
expect_exit 2 "--threshold 0" \
	otatool verify --trust-key "$K/rel1.pub.pem" --threshold 0 "$P/p1.otapkg"

# ------------------------------------------------------------- bit flips

# v2 is signed by exactly the two signatures both thresholds need
assert_mutations_refused flip-sparse "$R/v2.otar" 32 \
	$(($(stat -c %s "$R/v2.otar") - 32 + 256)) "every flipped v2 refused" \
	otatool verify -q --root "$R/v1.otar" "$P/p1.otapkg" --root
assert_mutations_refused trunc "$R/v2.otar" 0 "$(stat -c %s "$R/v2.otar")" \
	"every truncated v2 refused" \
	otatool verify -q --root "$R/v1.otar" "$P/p1.otapkg" --root

# ------------------------------------------------------------- SoftHSM

if [ -f "$SOFTHSM_MODULE" ]; then
	H=$T/softhsm
	make_token "$H" fleet-root
	URI='pkcs11:token=fleet-root;object=root-1'
	check "token: a P-256 root key" \
		otatool keys generate -q --type ecdsa-p256 --key "$URI"
	check "token: init with the token key as a root key" \
		otatool trust init --root-key "$URI" --root-key "$K/rootB.pub.pem" \
		--root-threshold 2 --release-key "$K/rel1.pub.pem" \
		--key "$URI" --key "$K/rootB.pem" -o "$R/tok1.otar"
	check "token: public key" \
		otatool keys export-public "$URI" -o "$H/root-1.pub.pem"
	TOKID=$(spki_id "$H/root-1.pub.pem")
	reader "$R/tok1.otar" "[.signatures[] | select(.keyid == $(q "$TOKID")) | .valid]" '[true]'
	check "token: rotate signed inside the token" \
		otatool trust rotate "$R/tok1.otar" --release-key "$K/rel3.pub.pem" \
		--key "$URI" --key "$K/rootB.pem" -o "$R/tok2.otar"
	check "token: verify across the token's rotation" \
		otatool verify --root "$R/tok1.otar" --root "$R/tok2.otar" \
		"$P/p3.otapkg"
else
	skip "SoftHSM tests" "$SOFTHSM_MODULE is missing"
fi

finish
