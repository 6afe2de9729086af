# End-to-end tests of hostile inputs: every file input of every command,
# given a FIFO that nobody writes to and a directory, is refused at once
# with exit status 3 (each run under timeout(1), so a hang fails instead of
# stalling the suite); PIN and passphrase pipes are read with a bounded
# wait and still work as process substitution and /dev/stdin.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl softhsm2-util timeout mkfifo date python3
if [ ! -f "$SOFTHSM_MODULE" ]; then
	echo "SoftHSM module $SOFTHSM_MODULE is missing (scripts/deps)" >&2
	exit 2
fi

FAKE_COMMIT=0123456789abcdef0123456789abcdef01234567

# ---------------------------------------------------------------- fixtures

W=$T/w
mkdir -p "$W"
FIFO=$W/nobody-writes.fifo
DIR=$W/a-directory
mkfifo "$FIFO" || die "mkfifo"
mkdir -p "$DIR"

# ossl NAME ARGS...: openssl, stopping the script if a fixture fails.
ossl() {
	local name=$1

	shift
	openssl "$@" >"$T/.ossl.log" 2>&1 || die "openssl $name: $(cat "$T/.ossl.log")"
}

# A CA, a signer key with its certificate, an encrypted key, a CRL.
K=$W/keys
mkdir -p "$K/db"
ossl ca-key genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$K/ca.key"
ossl ca-cert req -x509 -new -key "$K/ca.key" -subj /CN=hostile-ca \
	-days 3650 -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$K/ca.pem"
check "keys generate (the signer key)" \
	otatool keys generate --type ecdsa-p256 --key "$K/signer.pem"
ossl signer-csr req -new -key "$K/signer.pem" -subj /CN=hostile-signer \
	-out "$K/signer.csr"
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' \
	>"$K/leaf.ext"
ossl signer-cert x509 -req -in "$K/signer.csr" -CA "$K/ca.pem" \
	-CAkey "$K/ca.key" -CAcreateserial -days 3650 -extfile "$K/leaf.ext" \
	-out "$K/signer.crt"
: >"$K/db/index.txt"
echo 01 >"$K/db/crlnumber"
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s\ncrlnumber = %s\ndefault_md = sha256\ndefault_crl_days = 3650\n' \
	"$K/db/index.txt" "$K/db/crlnumber" >"$K/ca.cnf"
ossl crl ca -batch -config "$K/ca.cnf" -gencrl -keyfile "$K/ca.key" \
	-cert "$K/ca.pem" -out "$K/ca.crl"
ossl enc-key pkey -in "$K/signer.pem" -aes256 -passout pass:secret \
	-out "$K/enc.pem"

# A release tree with an image, its manifest, signed manifest, package.
R=$W/rel
mkdir -p "$R/images"
head -c 4096 /dev/urandom >"$R/images/app.bin"
cat >"$R/rel.yaml" <<EOF
name: hostile-fw
version: 1.0.0
hardware: [board]
git:
  commit: $FAKE_COMMIT
images:
  - name: app
    file: images/app.bin
EOF
grep -v -e '^git:' -e '^  commit:' "$R/rel.yaml" >"$W/gitless.yaml"
sed -i "s|file: images/|file: rel/images/|" "$W/gitless.yaml"
check "manifest (fixture)" otatool manifest -q -o "$R/m.json" "$R/rel.yaml"
check "sign (fixture)" otatool sign -q --key "$K/signer.pem" \
	-o "$R/m.signed.json" "$R/m.json"
check "package (fixture)" otatool package -q --key "$K/signer.pem" \
	-o "$W/p.otapkg" "$R/m.signed.json"
check "export-digest (fixture)" otatool sign --key "$K/signer.pub.pem" \
	--export-digest "$W/digest.bin" "$R/m.json"
openssl pkeyutl -sign -inkey "$K/signer.pem" -in "$W/digest.bin" \
	-out "$W/sig.der" 2>/dev/null || die "openssl pkeyutl -sign"

# The same tree twice more, with the image replaced by a FIFO and by a
# directory: for the release file and for the manifests that name it.
for kind in fifo dir; do
	mkdir -p "$W/$kind/images"
	cp "$R/rel.yaml" "$R/m.json" "$R/m.signed.json" "$W/$kind/"
	if [ "$kind" = fifo ]; then
		mkfifo "$W/$kind/images/app.bin"
	else
		mkdir "$W/$kind/images/app.bin"
	fi
done

make_token "$W/hsm" hostile
check "keys generate (a token key)" \
	otatool keys generate --type ecdsa-p256 \
	--key "pkcs11:token=hostile;object=tk"
TOKEN_KEY="pkcs11:token=hostile;object=tk"
check "keys export-public (the token key)" \
	otatool keys export-public -o "$K/tk.pub.pem" "$TOKEN_KEY"

# ---------------------------------------------------------------- helpers

# elapsed_since START: seconds (with a fraction) since START (date +%s.%N).
elapsed_since() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# refused_at_once NAME CMD...: CMD with every @IN@ replaced by a FIFO that
# nobody writes to, then by a directory: each exits 3 within 5 seconds
# (the timeout of 20 turns a hang into a failure, status 124), naming
# the path on standard error. KINDS=dir: the directory only.
refused_at_once() {
	local name=$1 path what start took arg args

	shift
	for what in ${KINDS:-fifo dir}; do
		path=$FIFO
		[ "$what" = dir ] && path=$DIR
		args=()
		for arg in "$@"; do
			args+=("${arg//@IN@/$path}")
		done
		start=$(date +%s.%N)
		expect_exit 3 "$name ($what)" timeout 20 "${args[@]}" || continue
		took=$(elapsed_since "$start")
		assert_contains "$ERR" "$path"
		awk -v t="$took" 'BEGIN { exit !(t < 5) }'
		_assert $? "refused after ${took}s, not at once"
	done
}

# image_refused NAME CMD...: CMD with @TREE@ replaced by the tree whose
# image is a FIFO, then a directory: exit 3 at once, naming the image.
image_refused() {
	local name=$1 kind arg args start took

	shift
	for kind in fifo dir; do
		args=()
		for arg in "$@"; do
			args+=("${arg//@TREE@/$W/$kind}")
		done
		start=$(date +%s.%N)
		expect_exit 3 "$name (image is a $kind)" timeout 20 "${args[@]}" ||
			continue
		took=$(elapsed_since "$start")
		assert_contains "$ERR" "app.bin"
		awk -v t="$took" 'BEGIN { exit !(t < 5) }'
		_assert $? "refused after ${took}s, not at once"
	done
}

# secret_pipe_refused NAME CMD...: CMD with @IN@ replaced by a FIFO that
# nobody writes to: exit 3 after the documented 5-second wait for a
# writer (not at once, and not never); then by a directory: exit 3 at once.
secret_pipe_refused() {
	local name=$1 arg args start took

	shift
	args=()
	for arg in "$@"; do
		args+=("${arg//@IN@/$FIFO}")
	done
	start=$(date +%s.%N)
	if expect_exit 3 "$name (fifo)" timeout 30 "${args[@]}"; then
		took=$(elapsed_since "$start")
		assert_contains "$ERR" "$FIFO"
		assert_contains "$ERR" "no process writes"
		awk -v t="$took" 'BEGIN { exit !(t >= 4.5 && t < 15) }'
		_assert $? "refused after ${took}s, expected about 5"
	fi
	KINDS=dir refused_at_once "$name" "$@"
}

M=$R/m.json
S=$R/m.signed.json
CA=$K/ca.pem

# ---------------------------------------------------------------- manifest

refused_at_once "manifest RELEASE" otatool manifest -o "$W/out.json" @IN@
refused_at_once "manifest --previous" otatool manifest --previous @IN@ \
	-o "$W/out.json" "$R/rel.yaml"
image_refused "manifest, release file image" \
	otatool manifest -o "$W/out.json" @TREE@/rel.yaml
refused_at_once "manifest --image" otatool manifest --name n \
	--release-version 1.0.0 --hardware h --git-commit "$FAKE_COMMIT" \
	--image app:application:@IN@ -o "$W/out.json"
expect_exit 3 "manifest --git-dir FIFO" timeout 20 otatool manifest \
	--git-dir "$FIFO" -o "$W/out.json" --name n --release-version 1.0.0 \
	--hardware h --image "app:application:$R/images/app.bin"
assert_not_exists "$W/out.json"

# ---------------------------------------------------------------- sign

refused_at_once "sign MANIFEST" otatool sign --key "$K/signer.pem" \
	-o "$W/out.json" @IN@
refused_at_once "sign --key" otatool sign --key @IN@ -o "$W/out.json" "$M"
refused_at_once "sign --cert" otatool sign --key "$K/signer.pem" \
	--cert @IN@ -o "$W/out.json" "$M"
refused_at_once "sign --chain" otatool sign --key "$K/signer.pem" \
	--cert "$K/signer.crt" --chain @IN@ -o "$W/out.json" "$M"
refused_at_once "sign --trust-key" otatool sign --key "$K/signer.pem" \
	--cert "$K/signer.crt" --trust-key @IN@ -o "$W/out.json" "$M"
expect_exit 3 "sign --trust FIFO" timeout 20 otatool sign \
	--key "$K/signer.pem" --cert "$K/signer.crt" --trust "$FIFO" \
	-o "$W/out.json" "$M"
refused_at_once "sign --crl" otatool sign --key "$K/signer.pem" \
	--cert "$K/signer.crt" --trust "$CA" --crl @IN@ -o "$W/out.json" "$M"
refused_at_once "sign --import-signature" otatool sign \
	--key "$K/signer.pub.pem" --import-signature @IN@ -o "$W/out.json" "$M"
image_refused "sign, manifest image" otatool sign --key "$K/signer.pem" \
	-o "$W/out.json" @TREE@/m.json
secret_pipe_refused "sign --passphrase-file" env -u OTATOOL_KEY_PASSPHRASE \
	otatool sign --key "$K/enc.pem" --passphrase-file @IN@ \
	-o "$W/out.json" "$M"
secret_pipe_refused "sign, pin-source" env -u OTATOOL_PKCS11_PIN \
	otatool sign --key "$TOKEN_KEY?pin-source=@IN@" -o "$W/out.json" "$M"
assert_not_exists "$W/out.json"

# ---------------------------------------------------------------- keys

refused_at_once "keys export-public KEY" otatool keys export-public @IN@
secret_pipe_refused "keys list, pin-source" env -u OTATOOL_PKCS11_PIN \
	otatool keys list "pkcs11:token=hostile?pin-source=@IN@"
secret_pipe_refused "keys export-public, pin-source" \
	env -u OTATOOL_PKCS11_PIN otatool keys export-public \
	"$TOKEN_KEY?pin-source=@IN@"

# ---------------------------------------------------------------- chain

refused_at_once "chain --cert" otatool chain check --cert @IN@ --trust "$CA"
refused_at_once "chain --chain" otatool chain check --cert "$K/signer.crt" \
	--chain @IN@ --trust "$CA"
refused_at_once "chain --trust-key" otatool chain check \
	--cert "$K/signer.crt" --trust-key @IN@
expect_exit 3 "chain --trust FIFO" timeout 20 otatool chain check \
	--cert "$K/signer.crt" --trust "$FIFO"
refused_at_once "chain --crl" otatool chain check --cert "$K/signer.crt" \
	--trust "$CA" --crl @IN@
refused_at_once "chain --key" otatool chain check --cert "$K/signer.crt" \
	--trust "$CA" --key @IN@

# ---------------------------------------------------------------- package

refused_at_once "package INPUT" otatool package --key "$K/signer.pem" \
	-o "$W/out.pkg" @IN@
image_refused "package RELEASE.yaml image" otatool package \
	--key "$K/signer.pem" -o "$W/out.pkg" @TREE@/rel.yaml
image_refused "package MANIFEST image" otatool package \
	--key "$K/signer.pem" -o "$W/out.pkg" @TREE@/m.json
image_refused "package SIGNED image" otatool package \
	--key "$K/signer.pem" -o "$W/out.pkg" @TREE@/m.signed.json
image_refused "package --format mcuboot image" otatool package \
	--format mcuboot --key "$K/signer.pem" -o "$W/out.pkg" @TREE@/m.json
refused_at_once "package --key" otatool package --key @IN@ \
	-o "$W/out.pkg" "$M"
refused_at_once "package --cert" otatool package --key "$K/signer.pem" \
	--cert @IN@ -o "$W/out.pkg" "$M"
refused_at_once "package --chain" otatool package --key "$K/signer.pem" \
	--cert "$K/signer.crt" --chain @IN@ -o "$W/out.pkg" "$M"
refused_at_once "package --trust-key" otatool package --key "$K/signer.pem" \
	--trust-key @IN@ -o "$W/out.pkg" "$S"
expect_exit 3 "package --trust FIFO" timeout 20 otatool package \
	--key "$K/signer.pem" --cert "$K/signer.crt" --trust "$FIFO" \
	-o "$W/out.pkg" "$M"
refused_at_once "package --crl" otatool package --key "$K/signer.pem" \
	--cert "$K/signer.crt" --trust "$CA" --crl @IN@ -o "$W/out.pkg" "$M"
expect_exit 3 "package --git-dir FIFO" timeout 20 otatool package \
	--key "$K/signer.pem" --git-dir "$FIFO" -o "$W/out.pkg" \
	"$W/gitless.yaml"
secret_pipe_refused "package --passphrase-file" \
	env -u OTATOOL_KEY_PASSPHRASE otatool package --key "$K/enc.pem" \
	--passphrase-file @IN@ -o "$W/out.pkg" "$M"
secret_pipe_refused "package, pin-source" env -u OTATOOL_PKCS11_PIN \
	otatool package --key "$TOKEN_KEY?pin-source=@IN@" -o "$W/out.pkg" "$M"
assert_not_exists "$W/out.pkg"

# ---------------------------------------------------------------- inspect

refused_at_once "inspect FILE" otatool inspect @IN@
refused_at_once "inspect --json FILE" otatool inspect --json @IN@

# ---------------------------------------------------------------- verify

refused_at_once "verify FILE" otatool verify --trust-key "$K/signer.pub.pem" \
	@IN@
refused_at_once "verify --trust-key" otatool verify --trust-key @IN@ \
	"$W/p.otapkg"
expect_exit 3 "verify --trust FIFO" timeout 20 otatool verify \
	--trust "$FIFO" "$W/p.otapkg"
refused_at_once "verify --crl" otatool verify --trust "$CA" --crl @IN@ \
	"$W/p.otapkg"
image_refused "verify, signed manifest image" otatool verify \
	--trust-key "$K/signer.pub.pem" @TREE@/m.signed.json
expect_exit 3 "verify --images FIFO" timeout 20 otatool verify \
	--trust-key "$K/signer.pub.pem" --images "$FIFO" "$S"

# ---------------------------------------------------------------- extract

refused_at_once "extract PACKAGE" otatool extract \
	--trust-key "$K/signer.pub.pem" -o "$W/x" @IN@
refused_at_once "extract --trust-key" otatool extract --trust-key @IN@ \
	-o "$W/x" "$W/p.otapkg"
expect_exit 3 "extract --trust FIFO" timeout 20 otatool extract \
	--trust "$FIFO" -o "$W/x" "$W/p.otapkg"
refused_at_once "extract --crl" otatool extract --trust "$CA" --crl @IN@ \
	-o "$W/x" "$W/p.otapkg"
assert_not_exists "$W/x"

# ---------------------------------------------------------------- bounded time

# hostile_file FILE PREFIX UNIT: FILE of exactly 1 MiB, the documented
# largest release file: PREFIX, then UNIT repeated, then newlines.
hostile_file() {
	python3 - "$@" <<'PY' || die "hostile_file $1"
import sys
path, prefix, unit = sys.argv[1:]
size = 1 << 20
n = (size - len(prefix)) // len(unit)
text = prefix + unit * n
open(path, "w").write(text + "\n" * (size - len(text)))
PY
}

# refused_in_cpu NAME WHERE WHY CMD...: CMD exits 3 naming WHERE and WHY,
# having used under one second of CPU (user + system, children included,
# as bash's time reports them); timeout(1) turns the 20-minute runs this
# once took into a failure.
refused_in_cpu() {
	local name=$1 where=$2 why=$3 cpu

	shift 3
	LAST_NAME=$name
	LAST_CMD=$(_quote "$@")
	TIMEFORMAT='%U %S'
	{
		time timeout 60 "$@" >"$OUT" 2>"$ERR" </dev/null
		RC=$?
	} 2>"$T/.time"
	unset TIMEFORMAT
	cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$T/.time")
	[ "$RC" = 3 ]
	_assert $? "expected exit status 3, got $RC"
	assert_contains "$ERR" "$where"
	assert_contains "$ERR" "$why"
	awk -v t="$cpu" 'BEGIN { exit !(t < 1) }'
	_assert $? "took ${cpu}s of CPU"
}

H=$W/hostile
mkdir -p "$H"
hostile_file "$H/lists.yaml" "name: " "["
hostile_file "$H/maps.yaml" "name: " "{a: "
hostile_file "$H/lines.yaml" "name: [
" " [
"
hostile_file "$H/wide.yaml" "hardware: [" "a, "
refused_in_cpu "1 MiB of [ (manifest)" "lists.yaml:1:70:" \
	"nested deeper than 64 levels" otatool manifest -o "$W/out.json" \
	"$H/lists.yaml"
refused_in_cpu "1 MiB of [ (package)" "lists.yaml:1:70:" \
	"nested deeper than 64 levels" otatool package --key "$K/signer.pem" \
	-o "$W/out.pkg" "$H/lists.yaml"
refused_in_cpu "1 MiB of {a: " "maps.yaml:1:259:" "nested deeper than 64" \
	otatool manifest -o "$W/out.json" "$H/maps.yaml"
refused_in_cpu "1 MiB of [ on lines" "lines.yaml:64:2:" \
	"nested deeper than 64" otatool manifest -o "$W/out.json" \
	"$H/lines.yaml"
refused_in_cpu "1 MiB wide list" "wide.yaml:1:12291:" \
	"more than 4096 YAML nodes" otatool manifest -o "$W/out.json" \
	"$H/wide.yaml"
assert_not_exists "$W/out.json"
assert_not_exists "$W/out.pkg"

# --------------------------------------------- images outside the release

# A release file from elsewhere names a file outside its tree, by ../, by
# an absolute path or by a symbolic link: refused (3) before anything is
# read or written, naming the image and where it resolves; read only with
# --allow-outside, and then hashed as sha256sum(1) hashes it.
O=$W/outside
mkdir -p "$O/rel/images"
head -c 1000 /dev/urandom >"$O/secret.bin"
SECRET=$(realpath "$O/secret.bin")
ln -s ../../secret.bin "$O/rel/images/app.bin"
for file in ../secret.bin images/../../secret.bin "$O/secret.bin" \
	images/app.bin; do
	sed "s|file: images/app.bin|file: \"$file\"|" "$R/rel.yaml" \
		>"$O/rel/rel.yaml"
	rm -f "$O/m.json" "$O/p.otapkg"
	expect_exit 3 "manifest: image $file outside the release" \
		otatool manifest -q -o "$O/m.json" "$O/rel/rel.yaml" &&
		assert_contains "$ERR" "image \"app\" ($file) resolves to $SECRET, outside the release file's directory $(realpath "$O/rel")"
	expect_exit 3 "package: image $file outside the release" \
		otatool package -q --key "$K/signer.pem" -o "$O/p.otapkg" \
		"$O/rel/rel.yaml" && assert_contains "$ERR" "--allow-outside"
	assert_not_exists "$O/m.json"
	assert_not_exists "$O/p.otapkg"
done
check "manifest --allow-outside" otatool manifest -q --allow-outside \
	-o "$O/m.json" "$O/rel/rel.yaml"
assert_json "$O/m.json" '.images[0].file' '"secret.bin"'
assert_json "$O/m.json" '.images[0].digest.value' \
	"\"$(sha256sum "$O/secret.bin" | cut -d' ' -f1)\""
check "package --allow-outside" otatool package -q --allow-outside \
	--key "$K/signer.pem" -o "$O/p.otapkg" "$O/rel/rel.yaml"
check "extract (outside image)" otatool extract -q \
	--trust-key "$K/signer.pub.pem" -o "$O/x" "$O/p.otapkg"
assert_same_file "$O/x/app.bin" "$O/secret.bin"
# Inside the tree, a symbolic link is fine.
mv "$O/secret.bin" "$O/rel/secret.bin"
ln -sf ../secret.bin "$O/rel/images/app.bin"
check "manifest: symbolic link inside the release" otatool manifest -q \
	-o "$O/m.json" "$O/rel/rel.yaml"

# ------------------------------------------------ modes of replaced outputs

# An output written over a 0600 file stays 0600 (it once became 0644), a
# 0755 one becomes 0644, and a new file gets 0644 less the umask, as
# stat(1) reports them.
mode_kept() {
	local name=$1 path=$2 old=$3 want=$4

	shift 4
	: >"$path"
	chmod "$old" "$path"
	check "$name over $old" "$@" && assert_eq "$(stat -c %a "$path")" \
		"$want" "$name: mode of $(basename "$path")"
}
mode_kept "manifest -o" "$W/m600.json" 600 600 \
	otatool manifest -q -o "$W/m600.json" "$R/rel.yaml"
mode_kept "manifest -o" "$W/m755.json" 755 644 \
	otatool manifest -q -o "$W/m755.json" "$R/rel.yaml"
mode_kept "sign -o" "$R/s600.json" 600 600 \
	otatool sign -q --key "$K/signer.pem" -o "$R/s600.json" "$M"
mode_kept "package -o" "$W/p640.otapkg" 640 640 \
	otatool package -q --key "$K/signer.pem" -o "$W/p640.otapkg" "$S"
mode_kept "keys export-public -o" "$W/pub600.pem" 600 600 \
	otatool keys export-public -o "$W/pub600.pem" "$K/signer.pem"
rm -f "$W/new.json"
check "manifest -o (a new file)" bash -c \
	'umask 027 && otatool manifest -q -o "$1" "$2"' _ "$W/new.json" \
	"$R/rel.yaml" && assert_eq "$(stat -c %a "$W/new.json")" 640 \
	"mode of a new file under umask 027"

# ------------------------------------------------- secrets that still work

# What CI jobs do: process substitution, /dev/stdin from a pipe or a
# here-string, and a FIFO whose writer is already waiting.
check "passphrase by process substitution" \
	env -u OTATOOL_KEY_PASSPHRASE bash -c \
	'otatool sign -q --key "$1" --passphrase-file <(echo secret) -o "$2" "$3"' \
	_ "$K/enc.pem" "$R/ps.json" "$M"
check "passphrase from /dev/stdin (pipe)" \
	env -u OTATOOL_KEY_PASSPHRASE bash -c \
	'echo secret | otatool sign -q --key "$1" --passphrase-file /dev/stdin -o "$2" "$3"' \
	_ "$K/enc.pem" "$R/stdin.json" "$M"
check "passphrase from /dev/stdin (here-string)" \
	env -u OTATOOL_KEY_PASSPHRASE bash -c \
	'otatool sign -q --key "$1" --passphrase-file /dev/stdin -o "$2" "$3" <<<secret' \
	_ "$K/enc.pem" "$R/here.json" "$M"
check "PIN by process substitution" env -u OTATOOL_PKCS11_PIN bash -c \
	'otatool sign -q --key "$1?pin-source=/dev/fd/3" -o "$2" "$3" 3< <(echo 1234)' \
	_ "$TOKEN_KEY" "$R/pin-ps.json" "$M"
mkfifo "$W/pass.fifo"
(printf 'secret\n' >"$W/pass.fifo") &
writer=$!
check "passphrase FIFO with a writer waiting" \
	env -u OTATOOL_KEY_PASSPHRASE timeout 20 otatool sign -q \
	--key "$K/enc.pem" --passphrase-file "$W/pass.fifo" -o "$R/fifo.json" "$M"
{
	kill "$writer"
	wait "$writer"
} 2>/dev/null
for f in ps stdin here pin-ps fifo; do
	check "signed with the secret ($f)" otatool verify -q \
		--trust-key "$K/signer.pub.pem" --trust-key "$K/tk.pub.pem" \
		"$R/$f.json"
done

finish
