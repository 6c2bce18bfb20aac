"""JSON Web Signatures for the emulator's Entra ID: its RSA signing key, RS256/PS256 sign and verify, the JWKS.

Entra signs tokens with RS256 and publishes the public keys at the tenant's ``jwks_uri``
(``/discovery/v2.0/keys``), each named by ``kid`` (learn.microsoft.com/entra/identity-platform/access-tokens,
"Validate the signature"), so any standard validator (PyJWT, jose, Microsoft.IdentityModel) can check the
emulator's tokens from the keys it serves. Client assertions are verified here too: a certificate credential's
(RS256 or PS256, MSAL signs PS256 since 1.29 with ``x5t#S256``) and a federated token's (its issuer's JWKS).
The private key is made once per state dir and kept in its SQLite meta table; it is never printed or logged.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ALGORITHMS = ("RS256", "PS256")
KEY_BITS = 2048  # Entra's signing keys are RSA 2048


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class BadSignature(Exception):
    """A JWS that is malformed, uses an algorithm not allowed, or whose signature does not verify."""


def new_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _int_b64(value: int) -> str:
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _b64_int(text: str) -> int:
    return int.from_bytes(unb64(text), "big")


def public_jwk(key: rsa.RSAPublicKey, kid: str) -> dict:
    """The JWK of ``key`` as Entra lists one (kty, use, kid, x5t, n, e): RFC 7517 §4, RFC 7518 §6.3.1."""
    numbers = key.public_numbers()
    return {"kty": "RSA", "use": "sig", "kid": kid, "x5t": kid, "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}


def key_from_jwk(jwk: dict) -> rsa.RSAPublicKey:
    try:
        if jwk.get("kty") != "RSA":
            raise BadSignature(f"key '{jwk.get('kid')}' is not an RSA key")
        return rsa.RSAPublicNumbers(_b64_int(str(jwk["e"])), _b64_int(str(jwk["n"]))).public_key()
    except (KeyError, ValueError, TypeError) as error:
        raise BadSignature(f"key '{jwk.get('kid')}' is not a valid RSA JWK: {error}") from None


class SigningKey:
    """The emulator's RSA key: signs RS256 JWTs with its ``kid`` in the header; its public half is the JWKS."""

    def __init__(self, private_pem: str):
        # The emulator made this key itself (new_private_key_pem): skip the RSA consistency check, which costs
        # about 100 ms per start on a loaded 2-core machine and protects only against keys from elsewhere.
        loaded = serialization.load_pem_private_key(private_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise TypeError("the emulator's signing key must be an RSA key")
        self._key = loaded
        der = loaded.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        # Entra's kid is its certificate's thumbprint; this key has no certificate, so the public key's digest
        # names it: stable across restarts on the same state dir, different per state dir.
        self.kid = b64(hashlib.sha1(der, usedforsecurity=False).digest())

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def jwks(self) -> dict:
        return {"keys": [public_jwk(self.public_key, self.kid)]}

    def sign(self, claims: dict, header: dict | None = None) -> str:
        head = {"typ": "JWT", "alg": "RS256", "kid": self.kid, "x5t": self.kid, **(header or {})}
        signing_input = f"{b64(_json(head))}.{b64(_json(claims))}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(signature)}"


def _json(value: dict) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def split(token: str) -> tuple[dict, dict, bytes, bytes]:
    """(header, claims, signing input, signature) of a compact JWS; BadSignature when it is not one."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise BadSignature("not a compact JWS (three base64url parts separated by '.')")
    try:
        header, claims = json.loads(unb64(parts[0])), json.loads(unb64(parts[1]))
        signature = unb64(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise BadSignature("its header, payload or signature is not valid base64url JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise BadSignature("its header and payload must be JSON objects")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature


def verify(header: dict, signing_input: bytes, signature: bytes, key: rsa.RSAPublicKey,
           algorithms: tuple[str, ...] = ALGORITHMS) -> None:
    """Check ``signature`` with ``key`` by the header's ``alg``, which must be one of ``algorithms`` (never 'none'
    or HMAC: a validator that lets the token choose those accepts forgeries, RFC 8725 §2.1)."""
    alg = header.get("alg")
    if alg not in algorithms:
        raise BadSignature(f"algorithm '{alg}' is not accepted (allowed: {', '.join(algorithms)})")
    # PS256: RSASSA-PSS with SHA-256, MGF1 SHA-256, salt as long as the hash (RFC 7518 §3.5).
    pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
    try:
        key.verify(signature, signing_input, pad, hashes.SHA256())
    except InvalidSignature:
        raise BadSignature("the signature does not verify") from None

