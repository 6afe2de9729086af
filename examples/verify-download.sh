#!/usr/bin/env bash
# "Verify what you downloaded", runnable: the steps of
# examples/verify-download.md, on downloads it makes itself.
#
# First it plays the vendor, in a temporary directory: a release signed
# with a key file whose certificate chains to the vendor's root, published
# as an otatool package, a signed manifest with its images, and SHA256SUMS;
# the root certificate and the public key are handed over separately.
# Then it plays you, holding only those files:
#
#   1. check the trust anchor you were given (fingerprint, key id);
#   2. otatool verify the package, with the root and with the public key,
#      and with your device's policy;
#   3. otatool verify the signed manifest and its images;
#   4. check the package with openssl alone (otatool-package(5), the layout
#      in src/device/otapkg.h): rebuild H over header + protected region,
#      verify the signature, the embedded chain and every image digest;
#   5. check the signed manifest with openssl alone (otatool-signature(5));
#   6. a download changed in transit, and one not made for your device:
#      both refused, by otatool and by the independent check.
#
# Also: OTATOOL (default build/otatool). Needs bash, openssl, jq, od and
# sha256sum. Exits non-zero if any check does not give the expected
# result; removes everything it made.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

OTATOOL=${OTATOOL:-$root/build/otatool}
case $OTATOOL in
/*) ;;
*/*) OTATOOL=$PWD/$OTATOOL ;;
esac

step=0
say() { step=$((step + 1)); printf '\n==> %d. %s\n' "$step" "$*"; }
die() { printf 'verify-download: %s\n' "$*" >&2; exit 1; }

# expect STATUS CMD...: runs CMD (shown first), stops unless it exits with
# STATUS. The statuses are in verify-download.md and otatool(1).
expect() {
	local want=$1 status=0
	shift
	printf '+ %s\n' "$*" >&2
	"$@" || status=$?
	[ "$status" = "$want" ] ||
		die "$(basename "$1") ${2:-}: expected exit status $want, got $status"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/otatool-download.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'echo "verify-download: step $step failed" >&2' ERR

command -v "$OTATOOL" >/dev/null ||
	die "$OTATOOL not found: run scripts/build, or set OTATOOL"
for tool in openssl jq od sha256sum; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done

# ===========================================================================
say "the vendor publishes a release (setup)"
mkdir -p "$work/vendor" "$work/download" "$work/trust"
cd "$work/vendor"
cp "$here/release.yaml" .
cp -R "$here/images" .
cat >ca.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
openssl req -x509 -config ca.cnf -extensions root -newkey ec \
	-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
	-subj "/CN=Acme Firmware Root" -days 3650 -out root.pem 2>/dev/null
openssl req -new -config ca.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	-nodes -keyout inter.key -subj "/CN=Acme Firmware Signing CA" \
	-out inter.csr 2>/dev/null
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial \
	-days 1825 -extfile ca.cnf -extensions inter -out inter.pem 2>/dev/null
"$OTATOOL" keys generate -q --type ecdsa-p256 --key fw.pem >/dev/null
openssl req -new -config ca.cnf -key fw.pem -subj "/CN=acme-fw-2026" \
	-out fw.csr 2>/dev/null
openssl x509 -req -in fw.csr -CA inter.pem -CAkey inter.key -CAcreateserial \
	-days 365 -extfile ca.cnf -extensions signer -out fw.crt 2>/dev/null
# Built now, after the certificates were issued a moment ago: a release
# dated before its signer's certificate would not make sense.
unset SOURCE_DATE_EPOCH
"$OTATOOL" manifest -q --git-commit 0123456789abcdef0123456789abcdef01234567 \
	--release-version 2.4.1 -o manifest.json release.yaml
"$OTATOOL" sign -q --key fw.pem --cert fw.crt --chain inter.pem \
	--trust root.pem manifest.json
"$OTATOOL" package -q --key fw.pem --cert fw.crt --chain inter.pem \
	--trust root.pem --compress-image settings \
	-o "$work/download/acme-sensor-fw-2.4.1.otapkg" manifest.signed.json
cp manifest.signed.json "$work/download/acme-sensor-fw-2.4.1.manifest.signed.json"
cp -R images "$work/download/"
(cd "$work/download" && sha256sum -- *.otapkg *.json images/* >SHA256SUMS)
# Handed over separately (a web page over TLS, a printed fingerprint, the
# device vendor's documentation), never inside the download itself.
cp root.pem "$work/trust/acme-root.pem"
cp fw.pub.pem "$work/trust/acme-fw-2026.pub.pem"
echo "download/: $(cd "$work/download" && echo *)"
echo "trust/:    $(cd "$work/trust" && echo *)"

# ===========================================================================
# From here on, only download/ and trust/ are used.
cd "$work/download"
pkg=acme-sensor-fw-2.4.1.otapkg
signed=acme-sensor-fw-2.4.1.manifest.signed.json
anchor=../trust/acme-root.pem
pubkey=../trust/acme-fw-2026.pub.pem

say "check the trust anchor you were given"
openssl x509 -in "$anchor" -noout -subject -fingerprint -sha256
keyid=$(openssl pkey -pubin -in "$pubkey" -outform DER | sha256sum | cut -d' ' -f1)
echo "public key id: $keyid"
echo "(compare both with what the vendor publishes on another channel)"
expect 0 sha256sum -c --quiet SHA256SUMS
echo "SHA256SUMS: every file as listed (this only catches broken downloads:"
echo "whoever can change the files can change SHA256SUMS too)"

# ---------------------------------------------------------------------------
say "otatool verify the package, as your device would"
expect 0 "$OTATOOL" verify --trust "$anchor" --hardware acme-sensor-rev-b \
	--counter 7 --bootloader-version 1.2.0 "$pkg" | tee report.txt
grep -q '^verdict: VALID$' report.txt || die "no VALID verdict"
expect 0 "$OTATOOL" verify -q --trust-key "$pubkey" "$pkg"
echo "and with the public key instead of the root: VALID"

say "otatool verify the signed manifest and the images beside it"
# Image paths in the manifest (images/app.bin, ...) are taken relative to
# --images, by default the manifest's directory.
expect 0 "$OTATOOL" verify --trust "$anchor" --hardware acme-sensor-rev-b \
	--images . "$signed"

# ---------------------------------------------------------------------------
# Integers in a package are little-endian (otapkg.h).
u8() { od -An -v -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u16() { od -An -v -tu2 -j "$2" -N2 --endian=little "$1" | tr -d ' '; }
u32() { od -An -v -tu4 -j "$2" -N4 --endian=little "$1" | tr -d ' '; }
u64() { od -An -v -tu8 -j "$2" -N8 --endian=little "$1" | tr -d ' '; }
hex() { od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
bytes() { # FILE OFFSET LENGTH
	dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=65536 status=none
}

# digest_name CODE: otapkg.h's digest codes as openssl names them.
digest_name() {
	case $1 in
	1) echo sha256 ;;
	2) echo sha384 ;;
	3) echo sha512 ;;
	*) return 1 ;;
	esac
}

# key_id PUBKEY.pem: SHA-256 of the DER SubjectPublicKeyInfo.
key_id() {
	openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# check_package FILE PUBKEY|"" ROOT|"": the package checked with openssl
# alone, trusting the public key or the root certificate; prints what it
# checks and returns non-zero at the first thing that does not hold.
check_package() {
	local f=$1 pub=$2 ca=$3 dir P S total dgst o n i good=0
	local salg slen clen kid c end cl nc key when=""
	local t l v comp ioff stored dalg dlen name want got

	dir=$(mktemp -d "$work/check.XXXXXX")
	if [ "$(head -c 4 "$f")" != OTAP ]; then
		echo "  not an otatool package"
		return 1
	fi
	P=$(u32 "$f" 16) S=$(u32 "$f" 20) total=$(u64 "$f" 32)
	dgst=$(digest_name "$(u8 "$f" 8)") || {
		echo "  unknown region digest"
		return 1
	}
	echo "  header: protected region P=$P, signature block S=$S, total $total bytes"
	if [ "$(wc -c <"$f")" -ne "$total" ]; then
		echo "  the file has $(wc -c <"$f") bytes, not the header's $total"
		return 1
	fi
	# H: the digest of the header and the protected region, [0, 64 + P).
	head -c $((64 + P)) "$f" | openssl dgst -"$dgst" -binary >"$dir/H"
	echo "  H = $dgst(bytes 0..$((64 + P - 1))) = $(od -An -v -tx1 "$dir/H" | tr -d ' \n')"

	# When the certificates are checked: the signing time (TLV 0x0009;
	# without one, now). And the digests of the certificate areas
	# (0x000a: key id, SHA-256), which bind them into H.
	local certs_digests=""
	o=64
	while [ "$o" -lt $((64 + P)) ]; do
		t=$(u16 "$f" "$o") l=$(u16 "$f" $((o + 2)))
		case $t in
		9) when=$(u64 "$f" $((o + 4))) ;;
		10) certs_digests+="$(hex "$f" $((o + 4)) 32):$(hex "$f" $((o + 36)) 32) " ;;
		esac
		o=$((o + 4 + (l + 3) / 4 * 4))
	done

	# The signature block at 64 + P: u16 count, u16 zero, the entries.
	o=$((64 + P))
	n=$(u16 "$f" "$o")
	o=$((o + 4))
	for ((i = 0; i < n; i++)); do
		salg=$(u16 "$f" "$o") slen=$(u16 "$f" $((o + 2)))
		clen=$(u32 "$f" $((o + 4))) kid=$(hex "$f" $((o + 8)) 32)
		bytes "$f" $((o + 40)) "$slen" >"$dir/sig$i"
		# Certificates: u32 length, DER, padding to 4; the signer's first.
		c=$((o + 40 + (slen + 3) / 4 * 4)) end=$((o + 40 + (slen + 3) / 4 * 4 + clen))
		if [ "$clen" -gt 0 ]; then
			case " $certs_digests" in
			*" $kid:$(bytes "$f" "$c" "$clen" | sha256sum | cut -d' ' -f1) "*) ;;
			*)
				echo "  signature $i: its certificates are not the ones H covers"
				return 1
				;;
			esac
		fi
		nc=0
		: >"$dir/chain$i.pem"
		while [ "$c" -lt "$end" ]; do
			cl=$(u32 "$f" "$c")
			bytes "$f" $((c + 4)) "$cl" |
				openssl x509 -inform DER -out "$dir/cert$i.$nc.pem"
			[ "$nc" = 0 ] || cat "$dir/cert$i.$nc.pem" >>"$dir/chain$i.pem"
			nc=$((nc + 1)) c=$((c + 4 + (cl + 3) / 4 * 4))
		done
		echo "  signature $i: algorithm $salg, key id $kid, $nc certificates"
		key=""
		if [ -n "$pub" ] && [ "$(key_id "$pub")" = "$kid" ]; then
			key=$pub
		elif [ -n "$ca" ] && [ "$nc" -gt 0 ]; then
			# The embedded chain must lead to your root at the signing
			# time, the signer's certificate must be for code signing,
			# and it must hold the key the signature names.
			openssl x509 -in "$dir/cert$i.0.pem" -noout -pubkey >"$dir/key$i.pem"
			if openssl verify -CAfile "$ca" -untrusted "$dir/chain$i.pem" \
				${when:+-attime "$when"} "$dir/cert$i.0.pem" >/dev/null 2>&1 &&
				openssl x509 -in "$dir/cert$i.0.pem" -noout \
					-ext extendedKeyUsage | grep -q 'Code Signing' &&
				[ "$(key_id "$dir/key$i.pem")" = "$kid" ]; then
				echo "    $(openssl x509 -in "$dir/cert$i.0.pem" -noout -subject):" \
					"certificates bound by H, chain to your root verified" \
					"${when:+at $(date -u -d "@$when" +%FT%TZ) }(code signing, key id matches)"
				key=$dir/key$i.pem
			fi
		fi
		o=$end
		if [ -z "$key" ]; then
			echo "    not by a key you trust (normal if another one is)"
			continue
		fi
		case $salg in
		1 | 2) # ECDSA P-256, P-384: DER, over H as a digest
			if openssl pkeyutl -verify -pubin -inkey "$key" -in "$dir/H" \
				-sigfile "$dir/sig$i" >/dev/null 2>&1; then
				echo "    openssl pkeyutl -verify: Signature Verified Successfully"
				good=1
			else
				echo "    openssl pkeyutl -verify: the signature does NOT verify"
			fi
			;;
		*) echo "    algorithm $salg: see verify-download.md for its openssl command" ;;
		esac
	done
	if [ "$good" != 1 ]; then
		echo "  no signature by a key you trust verifies"
		return 1
	fi

	# The images are bound by their digests in the protected region:
	# walk its TLVs (u16 type, u16 length, value, padding to 4).
	o=64
	while [ "$o" -lt $((64 + P)) ]; do
		t=$(u16 "$f" "$o") l=$(u16 "$f" $((o + 2))) v=$((o + 4))
		o=$((v + (l + 3) / 4 * 4))
		[ "$t" = 16 ] || continue # IMAGE
		comp=$(u8 "$f" $((v + 1)))
		dalg=$(digest_name "$(u8 "$f" $((v + 2)))") || return 1
		dlen=$(($(printf '%s' "$dalg" | tail -c 3) / 8))
		ioff=$(u64 "$f" $((v + 8))) stored=$(u64 "$f" $((v + 16)))
		name=$(bytes "$f" $((v + 40 + 2 * dlen)) "$(u8 "$f" $((v + 4)))")
		# The digest of the stored bytes follows that of the flashed
		# ones; they are equal for an uncompressed image.
		want=$(hex "$f" $((v + 40 + dlen)) "$dlen")
		got=$(bytes "$f" "$ioff" "$stored" | openssl dgst -"$dalg" -r | cut -d' ' -f1)
		if [ "$got" != "$want" ]; then
			echo "  image $name: bytes $ioff..$((ioff + stored - 1)) do NOT match the signed $dalg"
			return 1
		fi
		echo "  image $name: bytes $ioff..$((ioff + stored - 1)) match the signed $dalg$([ "$comp" = 0 ] || echo " (stored zlib-compressed)")"
	done
	rm -rf "$dir"
}

say "check the package with openssl alone"
check_package "$pkg" "" "$anchor" || die "the independent check failed"
echo "independent check: VALID"

# ---------------------------------------------------------------------------
say "check the signed manifest with openssl alone"
jq -r .payload "$signed" | base64 -d >payload
t=application/vnd.otatool.manifest+json
printf 'DSSEv1 %d %s %d ' ${#t} "$t" "$(wc -c <payload)" >pae
cat payload >>pae
nsig=$(jq '.signatures | length' "$signed")
ok=0
for ((i = 0; i < nsig; i++)); do
	[ "$(jq -r ".signatures[$i].keyid" "$signed")" = "$keyid" ] || continue
	jq -r ".signatures[$i].sig" "$signed" | base64 -d >sig
	echo "signature $i: $(jq -r ".signatures[$i].algorithm" "$signed") by key $keyid"
	expect 0 openssl dgst -sha256 -verify "$pubkey" -signature sig pae
	ok=1
done
[ "$ok" = 1 ] || die "no signature by the vendor's key"
# The signature covers the manifest; the manifest covers the images.
jq -r '.images[] | "\(.digest.value)  \(.file)"' payload >images.sha256
expect 0 sha256sum -c images.sha256

# ===========================================================================
say "a download changed in transit is refused"
cp "$pkg" tampered.otapkg
app_off=$("$OTATOOL" inspect --json "$pkg" | jq -er '.images[] | select(.name == "app") | .offset')
# One byte of the application image, inverted.
b=$(u8 tampered.otapkg $((app_off + 1000)))
# shellcheck disable=SC2059 # the octal escape is the point
printf "\\$(printf %03o $((b ^ 0xff)))" |
	dd of=tampered.otapkg bs=1 seek=$((app_off + 1000)) conv=notrunc 2>/dev/null
cmp -s "$pkg" tampered.otapkg && die "the copy was not changed"
expect 5 "$OTATOOL" verify --trust "$anchor" tampered.otapkg | tee report.txt
grep -q '^\[ FAIL \] image app' report.txt || die "no FAIL line for the app image"
if check_package tampered.otapkg "" "$anchor"; then
	die "the independent check accepted a tampered package"
fi
echo "independent check: REFUSED (the signature still holds: the image does not match it)"

say "a genuine release that is not for your device is refused too"
expect 11 "$OTATOOL" verify -q --trust "$anchor" --hardware acme-sensor-rev-a "$pkg"
echo "status 11: genuine, but acme-sensor-rev-a is not among its hardware"
expect 10 "$OTATOOL" verify -q --trust "$anchor" --counter 8 "$pkg"
echo "status 10: genuine, but older than what a device at counter 8 runs"

printf '\ndownload verified: %s (and a tampered copy refused)\n' "$pkg"
