"""
mcuboot_check.py IMAGE PAYLOAD PUBKEY.pem: checks an MCUboot image the way
MCUboot's bootutil reads it (docs/design.md in MCUboot's tree), written
independently of otatool for tests/e2e/test_cmake.sh: the header's magic
and sizes, that the payload after the header is PAYLOAD byte for byte,
the SHA-256 TLV (0x10) over header, payload and protected TLVs, the
KEYHASH TLV (0x01) as SHA-256 of the key's DER, and the ECDSA-P256
signature TLV (0x22) over that hash with python3-cryptography. Prints
"version MAJOR.MINOR.REV+BUILD" and exits 0, or names the failed check
and exits 1.
"""
import hashlib
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils


def fail(what):
    print("mcuboot_check: " + what)
    sys.exit(1)


def tlvs(data, off, magic):
    m, total = struct.unpack_from("<HH", data, off)
    if m != magic:
        fail("TLV area magic 0x%04x at %d, expected 0x%04x" % (m, off, magic))
    end, off, found = off + total, off + 4, {}
    while off < end:
        kind, length = struct.unpack_from("<HH", data, off)
        found[kind] = data[off + 4:off + 4 + length]
        off += 4 + length
    if off != end:
        fail("TLV area overruns its length")
    return found, end


def main():
    image, payload = (open(p, "rb").read() for p in sys.argv[1:3])
    key = serialization.load_pem_public_key(open(sys.argv[3], "rb").read())
    (magic, _load, hdr_size, prot_size, img_size, _flags, major, minor, rev,
     build) = struct.unpack_from("<IIHHIIBBHI", image, 0)
    if magic != 0x96F3B83D:
        fail("header magic 0x%08x" % magic)
    if image[hdr_size:hdr_size + img_size] != payload or img_size != len(payload):
        fail("the payload is not the firmware binary")
    off = hdr_size + img_size
    protected = {}
    if prot_size:
        protected, off = tlvs(image, off, 0x6908)
        if off - hdr_size - img_size != prot_size:
            fail("protected TLV size")
    unprotected, end = tlvs(image, off, 0x6907)
    if end != len(image):
        fail("%d bytes after the TLVs" % (len(image) - end))
    digest = hashlib.sha256(image[:off]).digest()
    if unprotected.get(0x10) != digest:
        fail("SHA256 TLV does not match the image")
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    if unprotected.get(0x01) != hashlib.sha256(der).digest():
        fail("KEYHASH TLV is not the key's")
    try:
        key.verify(unprotected[0x22], digest,
                   ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except (KeyError, InvalidSignature):
        fail("ECDSA signature TLV does not verify")
    print("version %d.%d.%d+%d" % (major, minor, rev, build))


main()
