# End-to-end tests of the rule every command keeps: an output is never one
# of the command's own inputs (otatool(1), FILES). Each refused run must
# exit 2 and leave the input byte for byte as it was, with its mode, and no
# temporary file beside it; an empty output path is a usage error too.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require openssl cmp

D=$T/rel
mkdir -p "$D/images"
head -c 3000 /dev/urandom >"$D/images/app.bin"
cat >"$D/release.yaml" <<'YAML'
name: fw
version: 1.2.3
hardware: [hw-a]
bootloader_min: 1.0.0
security_counter: 3
images:
  - name: app
    file: images/app.bin
    kind: application
YAML
make_git_repo "$D"

K=$T/keys
mkdir -p "$K"
check "a key" otatool keys generate --type ecdsa-p256 --key "$K/k.pem"
check "another key" otatool keys generate --type ed25519 --key "$K/k2.pem"
openssl req -new -x509 -key "$K/k.pem" -subj /CN=fw-signer -days 30 \
	-out "$K/k.crt" 2>/dev/null || die "openssl req failed"
printf 'not used\n' >"$K/pass.txt"
chmod 600 "$K/pass.txt"
check "a manifest" in_dir "$D" otatool manifest -q release.yaml -o m.json
check "a previous manifest" cp "$D/m.json" "$T/prev.json"
check "a signed manifest" otatool sign -q --key "$K/k.pem" "$D/m.json"
check "a package" otatool package -q --key "$K/k.pem" \
	-o "$T/p.otapkg" "$D/m.signed.json"

# refused NAME FILE CMD...: CMD must exit 2 naming the clash, and FILE (one
# of its inputs) must be left exactly as it was, mode included.
refused() {
	local name=$1 file=$2 mode

	shift 2
	cp -p -- "$file" "$T/before"
	mode=$(stat -c %a -- "$file")
	expect_exit 2 "$name" "$@"
	assert_contains "$ERR" "is also an input"
	assert_same_file "$file" "$T/before"
	assert_eq "$(stat -c %a -- "$file")" "$mode" "mode of $file"
	assert_no_temp "$(dirname "$file")" "$(basename "$file")"
}

# ------------------------------------------------------------- package

refused "package -o KEY" "$K/k.pem" \
	in_dir "$D" otatool package release.yaml --key "$K/k.pem" -o "$K/k.pem"
assert_eq "$(stat -c %a "$K/k.pem")" 600 "the key keeps mode 0600"
refused "package -o the release file" "$D/release.yaml" \
	in_dir "$D" otatool package release.yaml --key "$K/k.pem" \
	-o release.yaml
refused "package -o an image of the release" "$D/images/app.bin" \
	in_dir "$D" otatool package release.yaml --key "$K/k.pem" \
	-o images/app.bin
refused "package --format mcuboot -o an image" "$D/images/app.bin" \
	in_dir "$D" otatool package release.yaml --key "$K/k.pem" \
	--format mcuboot -o images/app.bin
refused "package -o an image of a signed manifest" "$D/images/app.bin" \
	otatool package "$D/m.signed.json" --key "$K/k.pem" \
	-o "$D/images/app.bin"
refused "package -o the manifest" "$D/m.signed.json" \
	otatool package "$D/m.signed.json" --key "$K/k.pem" \
	-o "$D/m.signed.json"
refused "package -o --cert" "$K/k.crt" \
	otatool package "$D/m.signed.json" --key "$K/k.pem" \
	--cert "$K/k.crt" -o "$K/k.crt"
refused "package -o --trust-key" "$K/k.pub.pem" \
	otatool package "$D/m.signed.json" --key "$K/k.pem" \
	--trust-key "$K/k.pub.pem" -o "$K/k.pub.pem"
refused "package -o --trust" "$K/k.crt" \
	otatool package "$D/m.signed.json" --key "$K/k.pem" \
	--trust "$K/k.crt" -o "$K/k.crt"
refused "package -o --crl" "$K/pass.txt" \
	otatool package "$D/m.signed.json" --key "$K/k.pem" \
	--crl "$K/pass.txt" -o "$K/pass.txt"
refused "package -o --passphrase-file" "$K/pass.txt" \
	otatool package "$D/m.signed.json" --key "$K/k.pem" \
	--passphrase-file "$K/pass.txt" -o "$K/pass.txt"

# The same file by another name: a symlink, a path through "..".
ln -s k.pem "$K/alias.pem"
refused "package -o a symlink to the key" "$K/k.pem" \
	otatool package "$D/m.signed.json" --key "$K/k.pem" \
	-o "$K/alias.pem"
refused "package -o DIR/../KEY" "$K/k.pem" \
	otatool package "$D/m.signed.json" --key "$K/k.pem" \
	-o "$K/../keys/k.pem"

# ------------------------------------------------------------ manifest

refused "manifest -o the release file" "$D/release.yaml" \
	in_dir "$D" otatool manifest release.yaml -o release.yaml
refused "manifest -o an image" "$D/images/app.bin" \
	in_dir "$D" otatool manifest release.yaml -o images/app.bin
refused "manifest -o --previous" "$T/prev.json" \
	in_dir "$D" otatool manifest release.yaml --release-version 1.2.4 \
	--previous "$T/prev.json" -o "$T/prev.json"

# ---------------------------------------------------------------- sign

refused "sign -o KEY" "$K/k.pem" \
	otatool sign --key "$K/k.pem" -o "$K/k.pem" "$D/m.json"
refused "sign -o an image" "$D/images/app.bin" \
	otatool sign --key "$K/k.pem" -o "$D/images/app.bin" "$D/m.json"
refused "sign -o --cert" "$K/k.crt" \
	otatool sign --key "$K/k.pem" --cert "$K/k.crt" -o "$K/k.crt" \
	"$D/m.json"
refused "sign --export-digest onto the manifest" "$D/m.json" \
	otatool sign --key "$K/k.pub.pem" --export-digest "$D/m.json" \
	"$D/m.json"
refused "sign --export-payload onto the key" "$K/k.pub.pem" \
	otatool sign --key "$K/k.pub.pem" --export-payload "$K/k.pub.pem" \
	"$D/m.json"
check "a digest to sign" otatool sign -q --key "$K/k.pub.pem" \
	--export-digest "$T/digest.bin" "$D/m.json"
refused "sign -o --import-signature" "$T/digest.bin" \
	otatool sign --key "$K/k.pub.pem" --import-signature "$T/digest.bin" \
	-o "$T/digest.bin" "$D/m.json"
# Adding a signature to a signed manifest in place is what sign is for.
check "sign still updates a signed manifest in place" \
	otatool sign -q --key "$K/k2.pem" -o "$D/m.signed.json" \
	"$D/m.signed.json"
assert_json "$D/m.signed.json" '.signatures | length' 2

# ------------------------------------------------------ keys and extract

refused "keys export-public -o KEY" "$K/k.pem" \
	otatool keys export-public "$K/k.pem" -o "$K/k.pem"
refused "keys export-public -o the public key it reads" "$K/k.pub.pem" \
	otatool keys export-public "$K/k.pub.pem" -o "$K/k.pub.pem"
cp -p "$K/k.pem" "$T/before"
expect_exit 4 "keys generate never overwrites a key" \
	otatool keys generate --type ecdsa-p256 --key "$K/k.pem"
assert_same_file "$K/k.pem" "$T/before"
refused "extract -o the package" "$T/p.otapkg" \
	otatool extract --trust-key "$K/k.pub.pem" -o "$T/p.otapkg" \
	"$T/p.otapkg"

# ------------------------------------------------------ empty outputs

for cmd in "manifest $D/release.yaml --git-dir $D -o" \
	"sign --key $K/k.pem $D/m.json -o" \
	"sign --key $K/k.pub.pem $D/m.json --export-digest" \
	"package --key $K/k.pem $D/m.signed.json -o" \
	"keys export-public $K/k.pem -o" \
	"extract --trust-key $K/k.pub.pem $T/p.otapkg -o"; do
	# shellcheck disable=SC2086 # the words of one command line
	expect_exit 2 "empty output path: ${cmd%% *}" otatool $cmd ''
	assert_contains "$ERR" "empty"
	assert_not_contains "$ERR" "rename"
done

finish
