"""Content hashes that decide when two imported texts are the same item."""
import hashlib
import unicodedata


def content_hash(text: str) -> str:
    # NFC + collapsed whitespace so that the same sentence typed twice is one item.
    normalised = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
