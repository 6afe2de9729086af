#!/usr/bin/env python3
"""An independent reader of otatool-root(5) records for the e2e tests.

Written from the man page, not from otatool's code: it parses a record,
checks each key id against the SHA-256 of the key's SubjectPublicKeyInfo
(as python3-cryptography encodes it), verifies every signature with
python3-cryptography, and prints the record as JSON:

  {"version": N, "expires": E, "root_threshold": T, "release_threshold": T,
   "keys": [{"id", "role", "alg", "generation"}], "revoked": [...],
   "signatures": [{"keyid", "alg", "valid"}]}

Usage: root_record.py RECORD
Exits 1 with a message on a malformed record.
"""
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

ALGS = {1: "ecdsa-p256", 2: "ecdsa-p384", 3: "rsa-pss", 4: "rsa-pkcs1",
        5: "ed25519"}


def die(msg):
    print("root_record.py: " + msg, file=sys.stderr)
    sys.exit(1)


def load_key(alg, raw):
    if alg == 1:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    if alg == 2:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), raw)
    if alg == 5:
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return serialization.load_der_public_key(raw)


def verify(key, alg, sig, digest):
    try:
        if alg in (1, 2):
            key.verify(sig, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        elif alg == 3:
            key.verify(sig, digest,
                       padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                   salt_length=32),
                       Prehashed(hashes.SHA256()))
        elif alg == 4:
            key.verify(sig, digest, padding.PKCS1v15(),
                       Prehashed(hashes.SHA256()))
        else:
            key.verify(sig, digest)
        return True
    except InvalidSignature:
        return False


def pad4(n):
    return (n + 3) & ~3


def main():
    data = open(sys.argv[1], "rb").read()
    if data[:4] != b"OTAR":
        die("no OTAR magic")
    fmt, hsize, signed_len, version, expires = struct.unpack_from(
        "<HHIIQ", data, 4)
    root_t, rel_t, n_keys, n_rev = struct.unpack_from("<BBBB", data, 24)
    if fmt != 1 or hsize != 32 or signed_len > len(data):
        die("bad header")
    off = 32
    keys = {}
    out_keys = []
    for _ in range(n_keys):
        kid = data[off:off + 32]
        role, _r, alg, gen, n, _r2 = struct.unpack_from(
            "<BBHIHH", data, off + 32)
        raw = data[off + 44:off + 44 + n]
        key = load_key(alg, raw)
        spki = key.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
        if hashlib.sha256(spki).digest() != kid:
            die("key id is not SHA-256 of the SubjectPublicKeyInfo")
        keys[kid] = (key, alg)
        out_keys.append({"id": kid.hex(), "role": {1: "root", 2: "release"}[role],
                         "alg": ALGS[alg], "generation": gen})
        off += 44 + pad4(n)
    revoked = []
    for _ in range(n_rev):
        revoked.append(data[off:off + 32].hex())
        off += 32
    if off != signed_len:
        die("signed part size mismatch")
    digest = hashlib.sha256(data[:signed_len]).digest()
    count, = struct.unpack_from("<H", data, off)
    off += 4
    sigs = []
    for _ in range(count):
        kid = data[off:off + 32]
        alg, n = struct.unpack_from("<HH", data, off + 32)
        sig = data[off + 36:off + 36 + n]
        valid = kid in keys and keys[kid][1] == alg and verify(
            keys[kid][0], alg, sig, digest)
        sigs.append({"keyid": kid.hex(), "alg": ALGS[alg], "valid": valid})
        off += 36 + pad4(n)
    if off != len(data):
        die("bytes after the last signature")
    print(json.dumps({"version": version, "expires": expires,
                      "root_threshold": root_t, "release_threshold": rel_t,
                      "keys": out_keys, "revoked": revoked,
                      "signatures": sigs}))


main()
