#!/usr/bin/env python3
"""Independent check of the generated note vectors with pyca/cryptography.

negative.json and accepted.json are produced by Vitrine's own code
(generate.ts). This script re-verifies, with another Ed25519 implementation,
that every re-signed checkpoint-note case carries a valid log signature (so
its rejection can only come from the mutated checkpoint field) and that the
extension-line cosignature follows c2sp.org/tlog-cosignature.

Run from the repository root:  python3 vectors/note/crosscheck.py
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ref = json.load(open("vectors/note/keys-and-checkpoint.json"))
log_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(ref["log"]["seed"])).public_key()
witness_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(ref["witness"]["seed"])).public_key()
cases = json.load(open("vectors/note/negative.json"))["cases"] + json.load(open("vectors/note/accepted.json"))["cases"]


def split(note):
    i = note.rindex("\n\n")
    return note[: i + 1], note[i + 2 :].split("\n")[:-1]


checked = 0
for c in cases:
    if c["kind"] == "checkpoint-note":
        text, lines = split(c["input"])
        payload = base64.b64decode(lines[0].split(" ")[-1], validate=True)
        log_key.verify(payload[4:], text.encode())  # raises InvalidSignature on failure
        checked += 1
    if c["name"] == "cosigned-note-extension-lines":
        text, lines = split(c["input"])
        payload = base64.b64decode(lines[1].split(" ")[-1], validate=True)
        ts = int.from_bytes(payload[4:12], "big")
        witness_key.verify(payload[12:], b"cosignature/v1\ntime %d\n" % ts + text.encode())
        raw = witness_key.public_bytes_raw()
        assert hashlib.sha256(ref["witness"]["name"].encode() + b"\n\x04" + raw).digest()[:4] == payload[:4]
        checked += 1
print(f"{checked} cases verified independently")
sys.exit(0 if checked >= 18 else 1)
