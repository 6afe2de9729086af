# End-to-end test of otatool's CMake package and device library, as a
# firmware project uses them: `cmake --install` into a scratch prefix (or,
# for an installed otatool such as /usr/bin/otatool from the .deb, its own
# prefix), then
#   - examples/cmake-firmware, a Cortex-M4 firmware cross-compiled with
#     arm-none-eabi-gcc and newlib-nano, signed by otatool_add_package()
#     into an MCUboot image and an otatool package, with a key file and
#     with a SoftHSM token key whose PIN is in the build's environment;
#     checked with otatool verify, an independent MCUboot reader
#     (mcuboot_check.py: python3-cryptography) and the objcopy'd binary;
#   - tests/cmake/device-host, a host test project that links
#     libotatool-device.a through find_package(otatool COMPONENTS device)
#     and through pkg-config, and verifies packages with the device code;
#   - what the function refuses at configure time (a pin-value, a PIN in
#     the cache).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require cmake make pkg-config arm-none-eabi-gcc arm-none-eabi-objcopy \
	python3 openssl softhsm2-util cmp

CHECK=$OTATOOL_SRC/tests/e2e/mcuboot_check.py
# The build that made $OTATOOL installs into a scratch prefix; an otatool
# that is already installed brings its own (bin/..).
BUILD=$(dirname "$OTATOOL")
if [ -f "$BUILD/cmake_install.cmake" ]; then
	PREFIX=$T/prefix
	check "cmake --install" cmake --install "$BUILD" --prefix "$PREFIX"
	assert_same_file "$PREFIX/bin/otatool" "$OTATOOL"
else
	PREFIX=$(cd "$BUILD/.." && pwd)
fi
# the device library's CMake targets lie in the (multiarch) LIBDIR
DEVICE_TARGETS=$(find "$PREFIX"/lib* -path '*/cmake/otatool/otatoolDeviceTargets.cmake' 2>/dev/null | head -n 1)
[ -n "$DEVICE_TARGETS" ] || die "no otatoolDeviceTargets.cmake under $PREFIX/lib*"
LIBDIR=$(dirname "$(dirname "$(dirname "$DEVICE_TARGETS")")")

# ------------------------------------------------------------ the install
for f in share/man/man1/otatool.1 share/man/man5/otatool-package.5 \
	share/man/man7/otatool-cmake.7 share/cmake/otatool/otatoolConfig.cmake \
	share/cmake/otatool/otatoolPackage.cmake \
	share/bash-completion/completions/otatool \
	share/zsh/vendor-completions/_otatool \
	share/fish/vendor_completions.d/otatool.fish \
	share/doc/otatool/examples/release.yaml \
	share/doc/otatool/examples/cmake-firmware/CMakeLists.txt \
	include/otatool-device/otaverify.h include/otatool-device/otapkg.h \
	include/otatool-device/otapatch.h; do
	# Debian compresses man pages
	LAST_NAME="installed: $f"
	[ -e "$PREFIX/$f" ] || [ -e "$PREFIX/$f.gz" ]
	_assert $? "$PREFIX/$f is missing"
done
for h in otaverify.h otapkg.h otapatch.h; do
	LAST_NAME="installed $h"
	assert_same_file "$PREFIX/include/otatool-device/$h" \
		"$OTATOOL_SRC/src/device/$h"
done
# the very device code: the verifier's and the applier's entry points
run nm "$LIBDIR/libotatool-device.a"
assert_contains "$OUT" " T otav_feed"
assert_contains "$OUT" " T otap_init"
run env PKG_CONFIG_PATH="$LIBDIR/pkgconfig" pkg-config --cflags --libs otatool-device
assert_contains "$OUT" "-lotatool-device"

# ------------------------------------------------------- the firmware
# The firmware project as a user has it: its own git repository (the
# release's git facts), built out of tree with the cross toolchain.
FW=$T/fw
mkdir -p "$FW"
cp -r "$OTATOOL_SRC/examples/cmake-firmware" "$FW/src"
rm -rf "$FW/src/build"
make_git_repo "$FW/src" v1.2.0
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$FW/dev.pem" 2>/dev/null || die "openssl genpkey"
openssl pkey -in "$FW/dev.pem" -pubout -out "$FW/dev.pub.pem" || die "openssl pkey"
export SOURCE_DATE_EPOCH=1764000000

# configure DIR ARGS...: configures the firmware into DIR.
configure() {
	local dir=$1

	shift
	cmake -S "$FW/src" -B "$dir" -DCMAKE_PREFIX_PATH="$PREFIX" \
		-DCMAKE_TOOLCHAIN_FILE="$FW/src/arm-none-eabi.cmake" "$@"
}

# firmware_checks NAME BUILD PUB: both outputs verify, with otatool and
# independently, and carry the firmware that arm-none-eabi-objcopy makes
# of the linked ELF.
firmware_checks() {
	local name=$1 b=$2 pub=$3

	check "$name: objcopy the ELF ourselves" arm-none-eabi-objcopy -O binary \
		"$b/blinky.elf" "$b/expected.bin"
	check "$name: otatool verify (MCUboot)" otatool verify --trust-key "$pub" \
		"$b/blinky.signed.bin"
	check "$name: MCUboot image read independently" python3 "$CHECK" \
		"$b/blinky.signed.bin" "$b/expected.bin" "$pub"
	assert_contains "$OUT" "version 1.2.0+3"
	check "$name: otatool verify (package)" otatool verify --trust-key "$pub" \
		--hardware acme-blinky-rev-a --counter 3 "$b/blinky.otapkg"
	check "$name: extract" otatool extract -q --trust-key "$pub" \
		-o "$b/extracted" "$b/blinky.otapkg"
	assert_same_file "$b/extracted/blinky.bin" "$b/expected.bin"
	run otatool inspect --json "$b/blinky.otapkg"
	assert_json "$OUT" '.images[0].load_address' '"0x08020200"'
	assert_json "$OUT" '.git_commit' "$(q "$(git -C "$FW/src" rev-parse HEAD)")"
	# the image starts with the vector table: stack top in RAM, reset
	# handler in the slot, Thumb bit set
	LAST_NAME="$name: vector table"
	run python3 -c 'import struct,sys
sp, reset = struct.unpack_from("<II", open(sys.argv[1], "rb").read())
sys.exit(not (sp == 0x20020000 and reset & 1 and 0x08020200 < reset < 0x08080000))' \
		"$b/expected.bin"
	_assert "$RC" "no Cortex-M vector table at the start of the image"
}

B=$T/build-file
check "configure (key file)" configure "$B" -DSIGN_KEY="$FW/dev.pem"
check "build (key file)" cmake --build "$B"
assert_contains "$OUT" "otatool: packaging blinky (mcuboot)"
firmware_checks "key file" "$B" "$FW/dev.pub.pem"

# A build with nothing changed signs nothing; a changed source re-signs.
before=$(stat -c %Y.%i "$B/blinky.otapkg")
check "rebuild, nothing changed" cmake --build "$B"
assert_not_contains "$OUT" "otatool: packaging"
assert_eq "$(stat -c %Y.%i "$B/blinky.otapkg")" "$before" "untouched package"
sed -i 's/blinky 1.2.0/blinky 1.2.0 (patched)/' "$FW/src/version.c"
git -C "$FW/src" commit -qam "patched" || die "git commit"
check "rebuild after a change" cmake --build "$B"
assert_contains "$OUT" "otatool: packaging blinky (otatool)"
LAST_NAME="re-signed package"
[ "$(stat -c %Y.%i "$B/blinky.otapkg")" != "$before" ]
_assert $? "the package was not rewritten"
firmware_checks "key file, rebuilt" "$B" "$FW/dev.pub.pem"

# --------------------------------------------------- the device library
DH=$T/device-host
SAN_FLAGS=()
if [ "$SANITIZED" = 1 ]; then
	# the installed library is instrumented too: so must its users be
	SAN_FLAGS=(-DCMAKE_C_FLAGS=-fsanitize=address,undefined
		-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined)
fi
check "device-host: configure" cmake -S "$OTATOOL_SRC/tests/cmake/device-host" \
	-B "$DH" -DCMAKE_PREFIX_PATH="$PREFIX" "${SAN_FLAGS[@]}"
check "device-host: build" cmake --build "$DH"
cp "$B/blinky.otapkg" "$T/tampered.otapkg"
flip_byte "$T/tampered.otapkg" $(($(stat -c %s "$T/tampered.otapkg") - 100))
for v in verify_cmake verify_pc; do
	check "$v: a valid package" "$DH/$v" "$FW/dev.pub.pem" "$B/blinky.otapkg" \
		acme-blinky-rev-a
	assert_contains "$OUT" ": ok (1 image"
	expect_exit 1 "$v: a damaged image" "$DH/$v" "$FW/dev.pub.pem" \
		"$T/tampered.otapkg"
	assert_contains "$OUT" ": digest"
	expect_exit 1 "$v: another hardware" "$DH/$v" "$FW/dev.pub.pem" \
		"$B/blinky.otapkg" acme-blinky-rev-z
	assert_contains "$OUT" ": hardware"
done

# --------------------------------------------------------- a token key
# The PIN is in the build's environment only, as a CI secret would be.
TOK=$T/token
mkdir -p "$TOK/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$TOK" >"$TOK/softhsm2.conf"
printf 'leak:libsofthsm2.so\n' >"$TOK/lsan.supp"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$TOK/lsan.supp"
export SOFTHSM2_CONF=$TOK/softhsm2.conf OTATOOL_PKCS11_MODULE=$SOFTHSM_MODULE
PIN=fw-Pin-73915
softhsm2-util --init-token --free --label fw --pin "$PIN" --so-pin 55667788 \
	>"$TOK/init.log" 2>&1 || die "softhsm2-util: $(cat "$TOK/init.log")"
URI='pkcs11:token=fw;object=blinky-2026'
OTATOOL_PKCS11_PIN=$PIN otatool keys generate -q --type ecdsa-p256 --key "$URI" >/dev/null ||
	die "keys generate"
OTATOOL_PKCS11_PIN=$PIN otatool keys export-public -q "$URI" -o "$TOK/pub.pem" ||
	die "keys export-public"

BT=$T/build-token
check "configure (token key)" configure "$BT" -DSIGN_KEY="$URI"
expect_exit 2 "build without the PIN fails" env -u OTATOOL_PKCS11_PIN \
	setsid -w cmake --build "$BT"
assert_not_exists "$BT/blinky.signed.bin"
check "build with the PIN in the environment" env OTATOOL_PKCS11_PIN="$PIN" \
	cmake --build "$BT"
firmware_checks "token key" "$BT" "$TOK/pub.pem"
run grep -rlF -- "$PIN" "$BT"
assert_empty "$OUT"
cp "$BT/blinky.otapkg" "$T/build-token-pkg.otapkg"
for v in verify_cmake verify_pc; do
	check "$v: the token's package" "$DH/$v" "$TOK/pub.pem" \
		"$T/build-token-pkg.otapkg"
	expect_exit 1 "$v: not by the file key" "$DH/$v" "$FW/dev.pub.pem" \
		"$T/build-token-pkg.otapkg"
	assert_contains "$OUT" ": signature"
done

# ------------------------------------------------ refused at configure
expect_exit 1 "pin-value in the URI" configure "$T/refused1" \
	-DSIGN_KEY="$URI;pin-value=$PIN"
assert_contains "$ERR" "pin-value in a pkcs11: URI"
assert_not_exists "$T/refused1/Makefile"
expect_exit 1 "pin-value in the query" configure "$T/refused2" \
	-DSIGN_KEY="$URI?PIN-VALUE=$PIN"
assert_contains "$ERR" "pin-value in a pkcs11: URI"
expect_exit 1 "the PIN in the cache" configure "$T/refused3" \
	-DSIGN_KEY="$URI" -DOTATOOL_PKCS11_PIN="$PIN"
assert_contains "$ERR" "OTATOOL_PKCS11_PIN is in the CMake cache"
expect_exit 1 "a key file that is not there" configure "$T/refused4" \
	-DSIGN_KEY="$T/missing.pem"
assert_contains "$ERR" "missing.pem does not"

finish
