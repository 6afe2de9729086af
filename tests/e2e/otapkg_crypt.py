#!/usr/bin/env python3
"""Encrypted otatool packages, read independently of otatool from
otatool-package(5) (format version 3) with python3-cryptography, so that
the tests can check otatool's output against a second reader.

  otapkg_crypt.py decrypt KEYFILE PACKAGE OUTDIR  -> JSON, see below
  otapkg_crypt.py keyid KEYFILE                   -> hex key id

decrypt walks the header and the protected region's TLVs, takes each
IMAGE TLV (flag bit 1: encrypted) and the IMAGE_KEY TLVs (0x0012) that
name it, picks the one whose recipient key id is KEYFILE's (SHA-256 of its
SubjectPublicKeyInfo; for an AES-KW key file, SHA-256 of "otatool AES-KW
key id" and the key), unwraps the content key with MCUboot's scheme (the
wrap type byte is MCUboot's key TLV type: mcuboot_crypt.py), checks the
stored digest over the encrypted bytes, decrypts them with AES-CTR from a
zero counter block, inflates zlib images and checks the flashed digest.
It writes OUTDIR/NAME.bin (a patch image: OUTDIR/NAME.patch, the
decrypted patch, which needs a base to rebuild) and prints
{"version", "images": [{"name", "encrypted", "compression", "scheme",
"keyid", "stored_ok", "digest_ok"}]}; it exits 1 when a digest does not
match or no IMAGE_KEY is for KEYFILE, 2 on usage errors. Signatures are
not checked here: otatool verify and openssl do that.
"""
import base64
import hashlib
import json
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcuboot_crypt  # noqa: E402  MCUboot's wrap schemes
from cryptography.hazmat.primitives import serialization  # noqa: E402

KEK_LABEL = b"otatool AES-KW key id"
T_IMAGE, T_IMAGE_BASE, T_IMAGE_KEY = 0x0010, 0x0011, 0x0012
DIGESTS = {1: "sha256", 2: "sha384", 3: "sha512"}
DSIZE = {1: 32, 2: 48, 3: 64}
COMP = {0: "none", 1: "zlib", 2: "patch"}


def le(b, o, n):
    return int.from_bytes(b[o:o + n], "little")


def key_id(keyfile):
    data = open(keyfile, "rb").read()
    try:
        kek = base64.b64decode(data.strip(), validate=True)
        if len(kek) in (16, 32):
            return hashlib.sha256(KEK_LABEL + kek).digest(), "aes-kw"
    except ValueError:
        pass
    try:
        priv = serialization.load_pem_private_key(data, password=None)
        pub = priv.public_key()
    except ValueError:
        pub = serialization.load_pem_public_key(data)
    spki = pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest(), "pk"


def parse(pkg):
    if pkg[:4] != b"OTAP":
        raise SystemExit("not an otatool package")
    version = le(pkg, 4, 2)
    p_size = le(pkg, 16, 4)
    images, keys = [], []
    pos, end = 64, 64 + p_size
    while pos < end:
        t, n = le(pkg, pos, 2), le(pkg, pos + 2, 2)
        v = pkg[pos + 4:pos + 4 + n]
        pos += 4 + (n + 3) // 4 * 4
        if t == T_IMAGE:
            d = DSIZE[v[2]]
            images.append({
                "kind": v[0], "compression": v[1], "alg": v[2],
                "flags": v[3], "offset": le(v, 8, 8),
                "stored_size": le(v, 16, 8), "size": le(v, 24, 8),
                "digest": v[40:40 + d], "stored_digest": v[40 + d:40 + 2 * d],
                "name": v[40 + 2 * d:40 + 2 * d + v[4]].decode()})
        elif t == T_IMAGE_KEY:
            keys.append({"image": v[0], "scheme": v[1], "keylen": v[2],
                         "keyid": v[4:36], "wrapped": v[36:]})
    return version, images, keys


def decrypt(keyfile, path, outdir):
    pkg = open(path, "rb").read()
    version, images, keys = parse(pkg)
    kid, _ = key_id(keyfile)
    out, ok = [], True
    os.makedirs(outdir, exist_ok=True)
    for i, img in enumerate(images):
        stored = pkg[img["offset"]:img["offset"] + img["stored_size"]]
        h = hashlib.new(DIGESTS[img["alg"]])
        h.update(stored)
        rec = {"name": img["name"], "encrypted": bool(img["flags"] & 2),
               "compression": COMP.get(img["compression"], "?"),
               "scheme": None, "keyid": None,
               "stored_ok": h.digest() == img["stored_digest"],
               "digest_ok": False}
        clear = stored
        if rec["encrypted"]:
            mine = [k for k in keys if k["image"] == i and k["keyid"] == kid]
            if not mine:
                out.append(rec)
                ok = False
                continue
            k = mine[0]
            scheme = mcuboot_crypt.SCHEMES[k["scheme"]]
            rec["scheme"], rec["keyid"] = scheme, kid.hex()
            try:
                ck = mcuboot_crypt.unwrap(scheme, keyfile, k["wrapped"],
                                          k["keylen"])
            except mcuboot_crypt.Refused:
                out.append(rec)
                ok = False
                continue
            clear = mcuboot_crypt.ctr(ck, stored)
        if img["compression"] == 2:
            name = img["name"] + ".patch"
            rec["digest_ok"] = None  # needs the base
            flashed = clear
        else:
            name = img["name"] + ".bin"
            flashed = zlib.decompress(clear) if img["compression"] == 1 \
                else clear
            f = hashlib.new(DIGESTS[img["alg"]])
            f.update(flashed)
            rec["digest_ok"] = (f.digest() == img["digest"] and
                                len(flashed) == img["size"])
        open(os.path.join(outdir, name), "wb").write(flashed)
        ok = ok and rec["stored_ok"] and rec["digest_ok"] is not False
        out.append(rec)
    print(json.dumps({"version": version, "images": out}))
    return 0 if ok else 1


def main(argv):
    if len(argv) == 5 and argv[1] == "decrypt":
        return decrypt(argv[2], argv[3], argv[4])
    if len(argv) == 3 and argv[1] == "keyid":
        print(key_id(argv[2])[0].hex())
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
