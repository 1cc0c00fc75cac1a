"""WeCom callback cryptography (WXBizMsgCrypt): SHA-1 msg_signature and the AES-256-CBC payload.

The key is base64(EncodingAESKey + '='), 32 bytes; the IV is its first 16 bytes. The plain text is
random(16) + msg_len (4 bytes, big-endian) + msg + receiveid, padded PKCS#7 to a multiple of 32.
"""

import base64
import hashlib
import hmac
import os
import struct
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class CallbackError(ValueError):
    """A callback whose signature, encryption or receiver is wrong."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """msg_signature: SHA-1 of the four strings sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


class WXBizMsgCrypt:
    """Verify, decrypt and encrypt WeCom callback payloads for one token / EncodingAESKey / receiver id."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        if len(encoding_aes_key) != 43:
            raise CallbackError("EncodingAESKey must be 43 characters")
        self.token = token
        self.key = base64.b64decode(encoding_aes_key + "=")
        self.receive_id = receive_id

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, *, random16: bytes | None = None) -> str:
        """Base64 ciphertext of a message, as WeCom sends it."""
        body = message.encode()
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The message inside a ciphertext; the receiver id must be ours."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except ValueError as exc:
            raise CallbackError("the payload is not base64") from exc
        if not data or len(data) % 16:
            raise CallbackError("the payload is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CallbackError("bad padding (wrong EncodingAESKey?)")
        plain = plain[:-pad]
        (length,) = struct.unpack(">I", plain[16:20])
        message, receiver = plain[20:20 + length], plain[20 + length:]
        if not hmac.compare_digest(receiver, self.receive_id.encode()):
            raise CallbackError("the payload is for another receiver id")
        return message.decode()

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise unless msg_signature signs the ciphertext with our token."""
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, msg_signature or ""):
            raise CallbackError("msg_signature does not match")

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The URL check (GET with echostr): verify and return the decrypted echo."""
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def open(self, msg_signature: str, timestamp: str, nonce: str, body: bytes | str) -> dict[str, str]:
        """Verify and decrypt a POSTed callback; returns the inner XML's fields."""
        encrypted = parse_xml(body).get("Encrypt")
        if not encrypted:
            raise CallbackError("no Encrypt element in the callback")
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return parse_xml(self.decrypt(encrypted))

    def seal(self, message: str, *, timestamp: str, nonce: str) -> str:
        """An encrypted callback body as WeCom posts it (used by the fake server and for passive replies)."""
        encrypted = self.encrypt(message)
        sig = signature(self.token, timestamp, nonce, encrypted)
        return (f"<xml><ToUserName><![CDATA[{self.receive_id}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]>"
                f"</Encrypt><MsgSignature><![CDATA[{sig}]]></MsgSignature><TimeStamp>{timestamp}</TimeStamp>"
                f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>")


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The child elements of a flat WeCom XML document as a dict (text content)."""
    if isinstance(body, bytes):
        body = body.decode()
    if "<!DOCTYPE" in body or "<!ENTITY" in body:
        raise CallbackError("DTDs are not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise CallbackError(f"not XML: {exc}") from exc
    return {child.tag: (child.text or "") for child in root}
