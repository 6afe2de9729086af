# End-to-end tests of RFC 3161 timestamps: a real time-stamping authority
# on loopback (`openssl ts -reply` behind a small python3 HTTP handler, with
# a TSA certificate from the tests' own CA: extendedKeyUsage timeStamping,
# critical), `package --tsa`, the two-step form through files, and `verify
# --tsa-trust`: a signer certificate judged at the token's time, so that one
# that expired since still verifies, and a token that is missing, forged,
# from an untrusted TSA or outside the certificate's validity does not.
# Tokens are also checked with `openssl ts -verify`.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl python3 cmp

C=$T/ca
R=$T/rel
mkdir -p "$C" "$R"

# ---------------------------------------------------------------- the CA

cat >"$C/ca.cnf" <<'EOF'
[ca]
default_ca = ca_default
[ca_default]
database = $ENV::CADIR/index.txt
new_certs_dir = $ENV::CADIR
serial = $ENV::CADIR/serial
default_md = sha256
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
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

ossl() {
	local log=$1

	shift
	openssl "$@" >"$C/$log.log" 2>&1 ||
		die "openssl $*: $(cat "$C/$log.log")"
}

# issue NAME CN ISSUER EXT START END: $C/NAME.pem and $C/NAME.key.
issue() {
	local name=$1 cn=$2 issuer=$3 ext=$4 start=$5 end=$6

	ossl "$name" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$C/$name.key"
	ossl "$name" req -new -config "$C/req.cnf" -key "$C/$name.key" \
		-subj "/CN=$cn" -out "$C/$name.csr"
	local db=$C/db/$issuer
	[ "$issuer" = self ] && db=$C/db/$name
	mkdir -p "$db"
	[ -e "$db/index.txt" ] || : >"$db/index.txt"
	[ -e "$db/serial" ] || echo 10 >"$db/serial"
	if [ "$issuer" = self ]; then
		CADIR=$db ossl "$name" ca -batch -config "$C/ca.cnf" -selfsign \
			-keyfile "$C/$name.key" -in "$C/$name.csr" \
			-extfile "$C/ext.cnf" -extensions "$ext" -notext \
			-startdate "$start" -enddate "$end" -out "$C/$name.pem"
	else
		CADIR=$db ossl "$name" ca -batch -config "$C/ca.cnf" \
			-cert "$C/$issuer.pem" -keyfile "$C/$issuer.key" \
			-in "$C/$name.csr" -extfile "$C/ext.cnf" -extensions "$ext" \
			-notext -startdate "$start" -enddate "$end" \
			-out "$C/$name.pem"
	fi
}

issue root "Test Root" self root 20200101000000Z 20491231235959Z
issue tsa-root "TSA Root" self root 20200101000000Z 20491231235959Z
issue other-root "Other Root" self root 20200101000000Z 20491231235959Z
issue tsa "Test TSA" tsa-root tsa 20200101000000Z 20491231235959Z
# Valid 2024..2028: packages signed "in 2030" are outside it.
issue signer "Test Signer" root signer 20240101000000Z 20281231235959Z
# Valid only from 2039: "now" (the TSA's time) is before it.
issue future "Future Signer" root signer 20390101000000Z 20401231235959Z
ROOT=(--trust "$C/root.pem")

# ---------------------------------------------------------------- the TSA

cat >"$C/tsa.cnf" <<EOF
[tsa]
default_tsa = tsa1
[tsa1]
dir = $C
serial = $C/tsaserial
crypto_device = builtin
signer_cert = $C/tsa.pem
signer_key = $C/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
EOF
echo 01 >"$C/tsaserial"

# POST /: the body is a TimeStampReq, answered by `openssl ts -reply`.
cat >"$C/tsa.py" <<'PY'
import http.server, os, subprocess, sys, tempfile
cnf, portfile = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        body = self.rfile.read(n)
        with tempfile.TemporaryDirectory() as d:
            q, r = os.path.join(d, 'q.tsq'), os.path.join(d, 'r.tsr')
            open(q, 'wb').write(body)
            p = subprocess.run(['openssl', 'ts', '-reply', '-config', cnf,
                                '-queryfile', q, '-out', r],
                               capture_output=True)
            if p.returncode != 0:
                self.send_response(500)
                self.end_headers()
                return
            out = open(r, 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', 'application/timestamp-reply')
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(portfile + '.tmp', 'w').write(str(s.server_address[1]))
os.rename(portfile + '.tmp', portfile)
s.serve_forever()
PY
python3 "$C/tsa.py" "$C/tsa.cnf" "$C/port" &
TSA_PID=$!
trap 'st=$?; kill "$TSA_PID" 2>/dev/null; (exit $st); _cleanup' EXIT
for _ in $(seq 1 100); do
	[ -s "$C/port" ] && break
	sleep 0.1
done
[ -s "$C/port" ] || die "the loopback TSA did not start"
TSA=http://127.0.0.1:$(cat "$C/port")/tsa

# ---------------------------------------------------------------- a release

cp "$OTATOOL_SRC/examples/release.yaml" "$R/"
cp -R "$OTATOOL_SRC/examples/images" "$R/"
run otatool manifest -q --git-commit 0123456789abcdef0123456789abcdef01234567 \
	-o "$R/m.json" "$R/release.yaml"
[ "$RC" = 0 ] || die "otatool manifest: $(cat "$ERR")"

# pkg NAME SIGNER EPOCH [OPTIONS...]: $R/NAME.otapkg signed "at" EPOCH.
pkg() {
	local name=$1 signer=$2 epoch=$3

	shift 3
	SOURCE_DATE_EPOCH=$epoch otatool package -q --key "$C/$signer.key" \
		--cert "$C/$signer.pem" -o "$R/$name.otapkg" "$@" "$R/m.json"
}

# region PKG: the unprotected region's TLVs as "type sig offset length"
# lines (offsets of the DER within the file), read independently of otatool.
region() {
	python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
total = struct.unpack_from('<Q', b, 32)[0]
if len(b) == total:
    sys.exit(0)
assert b[-4:] == b'OTAU', 'no footer'
u = struct.unpack_from('<I', b, len(b) - 8)[0]
assert total + u + 8 == len(b), 'footer size'
pos = total
while pos < total + u:
    t, l = struct.unpack_from('<HH', b, pos)
    print('%04x %d %d %d' % (t, b[pos + 4], pos + 8, l - 4))
    pos += 4 + ((l + 3) & ~3)
PY
}

# token PKG OUT: the first TIMESTAMP's DER; sig PKG OUT: signature 0's bytes.
token() {
	local t s off len

	read -r t s off len < <(region "$1" | grep '^8001' | head -1)
	[ -n "${off:-}" ] || return 1
	dd if="$1" of="$2" bs=1 skip="$off" count="$len" status=none
}
sig() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
e = 64 + struct.unpack_from('<I', b, 16)[0] + 4
n = struct.unpack_from('<H', b, e + 2)[0]
open(sys.argv[2], 'wb').write(b[e + 40:e + 40 + n])
PY
}

NOW=$(date +%s)
IN=1767225600    # 2026-01-01: inside the signer's validity
AFTER=1893456000 # 2030-01-01: after it

# ------------------------------------------------ package --tsa: the good case

check "package --tsa: timestamped at packaging" pkg good signer "$IN" \
	--tsa "$TSA" --tsa-trust "$C/tsa-root.pem"
assert_eq "$(region "$R/good.otapkg" | cut -d' ' -f1,2)" "8001 0" "the region"
check "inspect shows the region" otatool inspect "$R/good.otapkg"
assert_contains "$OUT" "timestamp of signature 0"
check "inspect --json shows the region" otatool inspect --json "$R/good.otapkg"
assert_json "$OUT" '.unprotected_region.entries[0].type' '"timestamp"'
assert_json "$OUT" '.unprotected_region.entries[0].signature' '0'
token "$R/good.otapkg" "$R/good.tst" || die "no token"
sig "$R/good.otapkg" "$R/good.sig"
check "openssl ts -verify: the token is over signature 0" openssl ts -verify \
	-data "$R/good.sig" -in "$R/good.tst" -token_in \
	-CAfile "$C/tsa-root.pem"
check "verify --tsa-trust: valid, timestamped" otatool verify "${ROOT[@]}" \
	--tsa-trust "$C/tsa-root.pem" "$R/good.otapkg"
assert_contains "$OUT" 'timestamped'
assert_contains "$OUT" 'by "CN=Test TSA"'
assert_contains "$OUT" "verdict: VALID"
check "verify without --tsa-trust: the token is only noted" otatool verify \
	"${ROOT[@]}" "$R/good.otapkg"
assert_contains "$OUT" "timestamp not checked (no --tsa-trust)"
check "the device verifier's walk: verify --trust-key" otatool verify -q \
	--trust-key "$C/signer.pem" "$R/good.otapkg"
check "diff: the region is not signed content" otatool diff -q \
	"$R/good.otapkg" "$R/good.otapkg"

# ---------------------- expired signer, token inside its validity: valid

# Signed "in 2030" (SIGNING_TIME), when the signer's certificate had
# expired; the TSA's token says it existed now, inside the validity.
check "package --tsa, SIGNING_TIME after the certificate expired" \
	pkg late signer "$AFTER" --tsa "$TSA"
expect_exit 6 "verify without --tsa-trust: judged at SIGNING_TIME, expired" \
	otatool verify -q "${ROOT[@]}" "$R/late.otapkg"
check "verify --tsa-trust: judged at the token's time, valid" otatool verify \
	"${ROOT[@]}" --tsa-trust "$C/tsa-root.pem" "$R/late.otapkg"
assert_contains "$OUT" "verdict: VALID"
check "verify --tsa-trust --at: --at still wins" otatool verify -q \
	"${ROOT[@]}" --tsa-trust "$C/tsa-root.pem" --at 2026-06-01T00:00:00Z \
	"$R/late.otapkg"

# ------------------------- token time outside the certificate's validity

check "package --tsa with a certificate valid only from 2039" \
	pkg early future 2208988800 --tsa "$TSA"
check "verify without --tsa-trust: at SIGNING_TIME (2040), valid" \
	otatool verify -q "${ROOT[@]}" "$R/early.otapkg"
expect_exit 6 "verify --tsa-trust: the token's time is before notBefore" \
	otatool verify "${ROOT[@]}" --tsa-trust "$C/tsa-root.pem" \
	"$R/early.otapkg"
assert_contains "$ERR" "is not valid before 2039-01-01T00:00:00Z"

# ------------------------------------------------------ untrusted TSA root

expect_exit 6 "verify --tsa-trust another root" otatool verify \
	"${ROOT[@]}" --tsa-trust "$C/other-root.pem" "$R/good.otapkg"
assert_contains "$ERR" 'timestamp: the timestamp'"'"'s TSA "CN=Test TSA" is not trusted'
expect_exit 6 "package --tsa --tsa-trust another root: refused" pkg refused \
	signer "$IN" --tsa "$TSA" --tsa-trust "$C/other-root.pem"
assert_not_exists "$R/refused.otapkg"

# ----------------------------------------------------------- forged tokens

read -r _ _ TOFF TLEN < <(region "$R/good.otapkg")
bad=
for at in 20 60 $((TLEN / 2)) $((TLEN - 30)) $((TLEN - 3)); do
	cp "$R/good.otapkg" "$R/forged.otapkg"
	python3 -c 'import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[off] ^= 0x04
open(p, "wb").write(b)' "$R/forged.otapkg" $((TOFF + at))
	run otatool verify -q "${ROOT[@]}" --tsa-trust "$C/tsa-root.pem" \
		"$R/forged.otapkg"
	[ "$RC" = 5 ] && _sanitizer_clean || bad="$bad $at:$RC"
	run openssl ts -verify -data "$R/good.sig" -in <(token "$R/forged.otapkg" /dev/stdout) \
		-token_in -CAfile "$C/tsa-root.pem"
	[ "$RC" != 0 ] || bad="$bad $at:openssl-accepts"
done
LAST_NAME="verify --tsa-trust: a bit flip in the token is exit 5"
if [ -z "$bad" ]; then pass; else fail "$LAST_NAME" "offset:status$bad"; fi
# A genuine token over another signature, moved into this package.
# Another signing time: ECDSA by a key file is deterministic (RFC 6979),
# so the same inputs would give the same signature and the same token.
check "package another release" pkg other signer "$((IN + 1))" --tsa "$TSA"
python3 - "$R/good.otapkg" "$R/other.otapkg" "$R/swapped.otapkg" <<'PY'
import struct, sys
a, b = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
ta, tb = (struct.unpack_from('<Q', x, 32)[0] for x in (a, b))
open(sys.argv[3], 'wb').write(a[:ta] + b[tb:])
PY
expect_exit 5 "verify --tsa-trust: a token over another signature" otatool \
	verify "${ROOT[@]}" --tsa-trust "$C/tsa-root.pem" "$R/swapped.otapkg"
assert_contains "$ERR" "does not verify over this signature"

# -------------------------------------------------- --require-timestamp

check "package without a timestamp" pkg plain signer "$IN"
assert_eq "$(region "$R/plain.otapkg")" "" "the region"
expect_exit 6 "verify --require-timestamp: none" otatool verify \
	"${ROOT[@]}" --tsa-trust "$C/tsa-root.pem" --require-timestamp \
	"$R/plain.otapkg"
assert_contains "$ERR" "no timestamp"
check "verify --require-timestamp: the timestamped one" otatool verify -q \
	"${ROOT[@]}" --tsa-trust "$C/tsa-root.pem" --require-timestamp \
	"$R/good.otapkg"
expect_exit 2 "--require-timestamp needs --tsa-trust" otatool verify -q \
	"${ROOT[@]}" --require-timestamp "$R/good.otapkg"

# ------------------------------------------------------------ two steps

check "package --tsa-request: the package and its query" pkg two signer \
	"$((IN + 2))" --tsa-request "$R/two.tsq"
assert_exists "$R/two.tsq"
cp "$R/two.otapkg" "$R/two.signed"
check "openssl ts -query -text reads the query" openssl ts -query \
	-in "$R/two.tsq" -text
assert_contains "$OUT" "Certificate required: yes"
assert_contains "$OUT" "Nonce: 0x"
check "the TSA answers it (openssl ts -reply)" openssl ts -reply \
	-config "$C/tsa.cnf" -queryfile "$R/two.tsq" -out "$R/two.tsr"
check "timestamp --tsa-reply --tsa-query: embedded" otatool timestamp \
	--tsa-reply "$R/two.tsr" --tsa-query "$R/two.tsq" \
	--tsa-trust "$C/tsa-root.pem" "$R/two.otapkg"
total=$(python3 -c 'import struct,sys;print(struct.unpack_from("<Q",open(sys.argv[1],"rb").read(),32)[0])' "$R/two.otapkg")
check "the signed bytes are unchanged" cmp -n "$total" "$R/two.signed" \
	"$R/two.otapkg"
check "verify --tsa-trust: the two-step package" otatool verify -q \
	"${ROOT[@]}" --tsa-trust "$C/tsa-root.pem" --require-timestamp \
	"$R/two.otapkg"
# A reply to another query of the same signature: its nonce differs.
check "timestamp --tsa-request: a second query" otatool timestamp -q \
	--tsa-request "$R/two-b.tsq" "$R/two.signed"
check "the TSA answers the second" openssl ts -reply -config "$C/tsa.cnf" \
	-queryfile "$R/two-b.tsq" -out "$R/two-b.tsr"
cp "$R/two.signed" "$R/two-c.otapkg"
expect_exit 5 "timestamp --tsa-reply with the other query: nonce" otatool \
	timestamp --tsa-reply "$R/two-b.tsr" --tsa-query "$R/two.tsq" \
	"$R/two-c.otapkg"
check "nothing was written" cmp "$R/two.signed" "$R/two-c.otapkg"
expect_exit 5 "timestamp --tsa-reply: a reply for another package" otatool \
	timestamp --tsa-reply "$R/two.tsr" "$R/good.otapkg"
assert_contains "$ERR" "not a timestamp of any of the 1 signatures"
check "timestamp --tsa: replaces the earlier token" otatool timestamp -q \
	--tsa "$TSA" "$R/two.otapkg"
assert_eq "$(region "$R/two.otapkg" | wc -l)" "1" "TIMESTAMP entries"
expect_exit 2 "timestamp: two modes" otatool timestamp --tsa "$TSA" \
	--tsa-request "$R/x.tsq" "$R/two.otapkg"
expect_exit 3 "timestamp --tsa: nobody listening" otatool timestamp -q \
	--tsa "http://127.0.0.1:1/tsa" "$R/two.signed"
expect_exit 3 "timestamp --tsa https: not supported" otatool timestamp -q \
	--tsa "https://127.0.0.1/tsa" "$R/two.signed"

finish
