#!/usr/bin/env python3
"""MCUboot's image encryption, written independently of otatool from
MCUboot's own description of it (docs/encrypted_images.md in MCUboot's
tree) with python3-cryptography, so that the tests can check otatool's
output against a second implementation in both directions.

  mcuboot_crypt.py wrap SCHEME KEYFILE CONTENT_KEY_HEX   -> payload hex
  mcuboot_crypt.py unwrap SCHEME KEYFILE PAYLOAD_HEX KEYLEN -> key hex
  mcuboot_crypt.py ctr CONTENT_KEY_HEX IN OUT   (AES-CTR, zero counter)
  mcuboot_crypt.py image-decrypt KEYFILE IN OUT  -> JSON, see below
  mcuboot_crypt.py image-encrypt SCHEME KEYFILE IN OUT

image-decrypt reads an MCUboot image as MCUboot's docs/encrypted_images.md
and docs/design.md lay it out: the ENC_AES128 (0x04) or ENC_AES256 (0x08)
header flag gives the content key's length, the key TLV (0x30 to 0x34) in
the unprotected TLV area its scheme; it unwraps the key with KEYFILE,
decrypts the img_size bytes after the header and writes the image with
the plaintext payload to OUT. It prints {"scheme", "keylen", "hash_ok"
(the hash TLV against SHA-256/384 of header, plaintext payload and
protected TLVs), "digest" (hex), "sig_type", "sig" (hex)}, and exits 1
when the hash does not match. image-encrypt does what a swap does to an
image made with imgtool --clear: a fresh content key, wrapped with SCHEME
for KEYFILE into the image's key TLV (which must be of SCHEME's type), and
the payload encrypted.

SCHEME is rsa-oaep (TLV 0x30), aes-kw (0x31), ecies-p256 (0x32),
ecies-x25519 (0x33) or ecies-x25519-sha512 (0x34). KEYFILE is a PEM
public key for wrap, a PEM private key for unwrap, or for aes-kw a file
of base64 text holding the 16- or 32-byte shared key. Exit status 0 on
success, 1 when unwrapping fails (wrong key, altered payload), 2 on
usage errors.
"""
import base64
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import (InvalidUnwrap,
                                                    aes_key_unwrap,
                                                    aes_key_wrap)

INFO = b"MCUBoot_ECIES_v1"
ECIES = ("ecies-p256", "ecies-x25519", "ecies-x25519-sha512")


class Refused(Exception):
    pass


def ctr(key, data):
    c = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    return c.update(data) + c.finalize()


def digest(scheme):
    return hashes.SHA512() if scheme.endswith("sha512") else hashes.SHA256()


def kdf(scheme, shared, keylen):
    # No salt; the AES key first, then a digest's length of MAC key.
    h = digest(scheme)
    okm = HKDF(algorithm=h, length=keylen + h.digest_size, salt=None,
               info=INFO).derive(shared)
    return okm[:keylen], okm[keylen:]


def mac(scheme, key, data):
    m = hmac.HMAC(key, digest(scheme))
    m.update(data)
    return m


def oaep():
    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()),
                        algorithm=hashes.SHA256(), label=None)


def read_kek(path):
    kek = base64.b64decode(open(path, "rb").read().strip(), validate=True)
    if len(kek) not in (16, 32):
        raise SystemExit("%s: an AES-KW key is 16 or 32 bytes" % path)
    return kek


def wrap(scheme, keyfile, key):
    if scheme == "aes-kw":
        return aes_key_wrap(read_kek(keyfile), key)
    pub = serialization.load_pem_public_key(open(keyfile, "rb").read())
    if scheme == "rsa-oaep":
        return pub.encrypt(key, oaep())
    if scheme == "ecies-p256":
        eph = ec.generate_private_key(ec.SECP256R1())
        shared = eph.exchange(ec.ECDH(), pub)
        epub = eph.public_key().public_bytes(
            serialization.Encoding.X962,
            serialization.PublicFormat.UncompressedPoint)
    else:
        eph = x25519.X25519PrivateKey.generate()
        shared = eph.exchange(pub)
        epub = eph.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
    aes, mkey = kdf(scheme, shared, len(key))
    ct = ctr(aes, key)
    return epub + mac(scheme, mkey, ct).finalize() + ct


def unwrap(scheme, keyfile, payload, keylen):
    if scheme == "aes-kw":
        try:
            key = aes_key_unwrap(read_kek(keyfile), payload)
        except InvalidUnwrap:
            raise Refused("AES-KW integrity check failed")
    else:
        priv = serialization.load_pem_private_key(open(keyfile, "rb").read(),
                                                  password=None)
        if scheme == "rsa-oaep":
            try:
                key = priv.decrypt(payload, oaep())
            except ValueError:
                raise Refused("RSA-OAEP decryption failed")
        else:
            publen = 65 if scheme == "ecies-p256" else 32
            taglen = digest(scheme).digest_size
            if len(payload) != publen + taglen + keylen:
                raise Refused("payload of %d bytes" % len(payload))
            epub = payload[:publen]
            tag = payload[publen:publen + taglen]
            ct = payload[publen + taglen:]
            if scheme == "ecies-p256":
                try:
                    peer = ec.EllipticCurvePublicKey.from_encoded_point(
                        ec.SECP256R1(), epub)
                except ValueError:
                    raise Refused("ephemeral key is not a P-256 point")
                shared = priv.exchange(ec.ECDH(), peer)
            else:
                peer = x25519.X25519PublicKey.from_public_bytes(epub)
                try:
                    shared = priv.exchange(peer)
                except ValueError:
                    raise Refused("X25519 gives an all-zero secret")
            aes, mkey = kdf(scheme, shared, keylen)
            try:
                mac(scheme, mkey, ct).verify(tag)
            except InvalidSignature:
                raise Refused("HMAC does not match")
            key = ctr(aes, ct)
    if len(key) != keylen:
        raise Refused("a %d-byte key, not %d" % (len(key), keylen))
    return key


TLV_INFO, TLV_PROT_INFO = 0x6907, 0x6908
SCHEMES = {0x30: "rsa-oaep", 0x31: "aes-kw", 0x32: "ecies-p256",
           0x33: "ecies-x25519", 0x34: "ecies-x25519-sha512"}


def u16(b, o):
    return b[o] | b[o + 1] << 8


def u32(b, o):
    return u16(b, o) | u16(b, o + 2) << 16


def parse_image(b):
    """The fields an encrypted image needs, and its unprotected TLVs."""
    hs, ps, isz, flags = u16(b, 8), u16(b, 10), u32(b, 12), u32(b, 16)
    if u32(b, 0) != 0x96f3b83d:
        raise Refused("not an MCUboot image")
    keylen = 16 if flags & 0x04 else 32 if flags & 0x08 else 0
    if not keylen:
        raise Refused("no ENC_AES128/ENC_AES256 flag")
    end = hs + isz + ps
    if ps and u16(b, hs + isz) != TLV_PROT_INFO:
        raise Refused("bad protected TLV area")
    if u16(b, end) != TLV_INFO:
        raise Refused("bad TLV area")
    tlvs, pos, stop = {}, end + 4, end + u16(b, end + 2)
    while pos + 4 <= stop:
        t, n = u16(b, pos), u16(b, pos + 2)
        tlvs[t] = (pos + 4, n)
        pos += 4 + n
    return hs, isz, end, keylen, tlvs


def key_tlv(tlvs):
    found = [t for t in tlvs if t in SCHEMES]
    if len(found) != 1:
        raise Refused("%d key TLVs" % len(found))
    return found[0]


def image_decrypt(keyfile, src, dst):
    b = bytearray(open(src, "rb").read())
    hs, isz, end, keylen, tlvs = parse_image(b)
    t = key_tlv(tlvs)
    off, n = tlvs[t]
    key = unwrap(SCHEMES[t], keyfile, bytes(b[off:off + n]), keylen)
    b[hs:hs + isz] = ctr(key, bytes(b[hs:hs + isz]))
    open(dst, "wb").write(b)
    htype = 0x11 if 0x11 in tlvs else 0x10
    h = hashes.Hash(hashes.SHA384() if htype == 0x11 else hashes.SHA256())
    h.update(bytes(b[:end]))
    got = h.finalize()
    hoff, hn = tlvs[htype]
    sig_type = [t for t in tlvs if 0x20 <= t <= 0x25][0]
    soff, sn = tlvs[sig_type]
    ok = bytes(b[hoff:hoff + hn]) == got
    print(json.dumps({"scheme": SCHEMES[t], "keylen": keylen, "hash_ok": ok,
                      "digest": got.hex(), "sig_type": sig_type,
                      "sig": bytes(b[soff:soff + sn]).hex()}))
    return 0 if ok else 1


def image_encrypt(scheme, keyfile, src, dst):
    b = bytearray(open(src, "rb").read())
    hs, isz, end, keylen, tlvs = parse_image(b)
    t = key_tlv(tlvs)
    if SCHEMES[t] != scheme:
        raise Refused("the image's key TLV is 0x%02x, not %s" % (t, scheme))
    key = os.urandom(keylen)
    wrapped = wrap(scheme, keyfile, key)
    off, n = tlvs[t]
    if len(wrapped) != n:
        raise Refused("a %d-byte wrap for a %d-byte TLV" % (len(wrapped), n))
    b[off:off + n] = wrapped
    b[hs:hs + isz] = ctr(key, bytes(b[hs:hs + isz]))
    open(dst, "wb").write(b)
    return 0


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "image-decrypt":
            return image_decrypt(argv[2], argv[3], argv[4])
        if len(argv) == 6 and argv[1] == "image-encrypt":
            return image_encrypt(argv[2], argv[3], argv[4], argv[5])
    except Refused as e:
        print("mcuboot_crypt.py: %s" % e, file=sys.stderr)
        return 1
    if len(argv) == 5 and argv[1] == "wrap" and (
            argv[2] in ECIES or argv[2] in ("rsa-oaep", "aes-kw")):
        print(wrap(argv[2], argv[3], bytes.fromhex(argv[4])).hex())
        return 0
    if len(argv) == 6 and argv[1] == "unwrap":
        try:
            print(unwrap(argv[2], argv[3], bytes.fromhex(argv[4]),
                         int(argv[5])).hex())
        except Refused as e:
            print("mcuboot_crypt.py: %s" % e, file=sys.stderr)
            return 1
        return 0
    if len(argv) == 5 and argv[1] == "ctr":
        # Streamed in odd-sized chunks: the counter runs across them.
        enc = Cipher(algorithms.AES(bytes.fromhex(argv[2])),
                     modes.CTR(bytes(16))).encryptor()
        with open(argv[3], "rb") as fin, open(argv[4], "wb") as fout:
            while True:
                chunk = fin.read(4099)
                if not chunk:
                    break
                fout.write(enc.update(chunk))
            fout.write(enc.finalize())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
