"""Ed25519 keys and run signatures.

A committee key is a PEM private key (PKCS#8, unencrypted, mode 0600) with its public key beside it
(`<name>.pub`, SubjectPublicKeyInfo PEM). A key's id is the first 16 hex digits of the SHA-256 of
its raw 32-byte public key. A run's signature is over `SIGNED_PREFIX + run hash` (ASCII): signing
the hash signs every field of the run and the digest of its providers' grades.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pingyi.errors import PingyiError
from pingyi.ledger.store import sha256_hex

SIGNED_PREFIX = b"pingyi-ledger-run-v1:"


@dataclass(frozen=True)
class KeyFiles:
    private: Path
    public: Path
    key_id: str


def public_path(private: Path) -> Path:
    return private.with_name(private.name + ".pub")


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256_hex(raw)[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def generate_key(path: Path | str) -> KeyFiles:
    """Write a new Ed25519 private key to `path` (0600; never over an existing file) and its public key
    to `path.pub`."""
    path = Path(path)
    pub = public_path(path)
    for p in (path, pub):
        if p.exists():
            raise PingyiError(f"{p}: already exists; a new key is never written over a file")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(path, 0o600)  # whatever the umask
    pub.write_text(public_pem(key.public_key()), encoding="ascii")
    return KeyFiles(path, pub, key_id(key.public_key()))


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    path = Path(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise PingyiError(f"{path}: no such private key file; expected an Ed25519 PEM key (generate_key)") from None
    except (ValueError, TypeError) as exc:
        raise PingyiError(f"{path}: not an unencrypted PEM private key ({exc}); expected an Ed25519 key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise PingyiError(f"{path}: a {type(key).__name__}, expected an Ed25519 private key")
    return key


def load_public_key(source: Path | str | bytes) -> Ed25519PublicKey:
    """A public key from a PEM file (a path) or PEM bytes (as the ledger's keys table holds it)."""
    where = "the ledger's keys table" if isinstance(source, bytes) else str(source)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        key = serialization.load_pem_public_key(data)
    except FileNotFoundError:
        raise PingyiError(f"{where}: no such public key file; expected an Ed25519 PEM public key") from None
    except ValueError as exc:
        raise PingyiError(f"{where}: not a PEM public key ({exc}); expected an Ed25519 public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise PingyiError(f"{where}: a {type(key).__name__}, expected an Ed25519 public key")
    return key


def sign_hash(key: Ed25519PrivateKey, run_hash: str) -> str:
    return key.sign(SIGNED_PREFIX + run_hash.encode("ascii")).hex()


def signature_valid(public: Ed25519PublicKey, run_hash: str, signature: str) -> bool:
    try:
        public.verify(bytes.fromhex(signature), SIGNED_PREFIX + run_hash.encode("ascii"))
    except (InvalidSignature, ValueError):
        return False
    return True
