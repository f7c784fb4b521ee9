"""A verifiable certificate: an Open Badges 3.0 credential signed with Ed25519.

The credential is a W3C Verifiable Credential (data model 2.0, JSON-LD) of type
``OpenBadgeCredential``. Its proof is a W3C Data Integrity proof with the cryptosuite
``eddsa-jcs-2022`` (VC Data Integrity EdDSA Cryptosuites v1.0, §3.3):

1. the credential without its proof, and the proof options without ``proofValue`` but with
   the credential's ``@context``, are each canonicalised with JCS (RFC 8785: sorted keys,
   no whitespace, ECMAScript string and number forms) and hashed with SHA-256;
2. the Ed25519 signature of ``hash(proof options) + hash(credential)`` is the
   ``proofValue``, multibase base58-btc (a leading ``z``);
3. the key is named by a ``did:key`` (Multikey: ``0xed01`` + the 32-byte public key,
   base58-btc), so the credential carries its public key; the issuer's id is that
   ``did:key``, and verification checks that the proof's key is the issuer's.

A valid signature proves that nothing in the credential changed since the holder of the
issuer's private key signed it. Whether that issuer is the one you trust is a separate
question: compare the issuer's ``did:key`` with the one the course provider publishes
(``course verify FILE --issuer DID``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from course import LIMITS_STATEMENT
from course.activity import Activity
from course.certificate import (
    NOT_ASSESSED,
    PASS_MARK,
    CompletionSummary,
    every_module,
    module_status,
)
from course.errors import InputError

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
COURSE_TERMS = "urn:x-mesotherapy-course:terms#"
# Two terms of the course's own, kept as opaque JSON literals (JSON-LD 1.1 "@json").
EXTRA_CONTEXT = {
    "activityMetadata": {"@id": f"{COURSE_TERMS}activityMetadata", "@type": "@json"},
    "courseResults": {"@id": f"{COURSE_TERMS}courseResults", "@type": "@json"},
}
CRYPTOSUITE = "eddsa-jcs-2022"
MULTIKEY_ED25519 = b"\xed\x01"
SELF_STUDY_NOTE = ("Self-study certificate: the results come from the learner's own "
                   "self-checks (course check) and were not verified by an instructor.")


class CredentialError(InputError):
    """Bad input: a key or credential file that cannot be used (one clear line)."""


# ---------------------------------------------------------------- canonical JSON (RFC 8785)


def _number(value: int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise CredentialError("credential: NaN and infinity cannot be canonicalised")
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if 1e-4 <= abs(value) < 1e16:  # where Python's repr and ECMAScript agree
        return repr(value)
    raise CredentialError(f"credential: the number {value!r} is outside what is supported")


def jcs(value: Any) -> bytes:
    """JSON Canonicalization Scheme (RFC 8785) of a JSON value, as UTF-8 bytes."""
    return _jcs(value).encode("utf-8")


def _jcs(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CredentialError("credential: object keys must be strings")
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))  # UTF-16 code units
        return "{" + ",".join(f"{_jcs(k)}:{_jcs(value[k])}" for k in keys) + "}"
    raise CredentialError(f"credential: {type(value).__name__} is not a JSON value")


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(jcs(value)).hexdigest()


# ---------------------------------------------------------------- base58-btc and did:key

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = B58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in B58:
            raise ValueError(f"not base58: {char!r}")
        number = number * 58 + B58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def did_key(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "did:key:z" + b58encode(MULTIKEY_ED25519 + raw)


def public_key_from_did(did: str) -> Ed25519PublicKey:
    """The Ed25519 public key named by a ``did:key``; ValueError if it names none."""
    if not isinstance(did, str) or not did.startswith("did:key:z"):
        raise ValueError("not an Ed25519 did:key")
    decoded = b58decode(did.removeprefix("did:key:z"))
    if not decoded.startswith(MULTIKEY_ED25519) or len(decoded) != 34:
        raise ValueError("not an Ed25519 did:key")
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


def verification_method(did: str) -> str:
    return f"{did}#{did.removeprefix('did:key:')}"


# ---------------------------------------------------------------- the issuer's key


def inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def make_issuer_key(path: Path, repository: Path) -> str:
    """Create a new Ed25519 private key file (PEM, mode 0600); return its did:key.

    Refuses a path inside the course repository and never overwrites a file.
    """
    if inside(path, repository):
        raise CredentialError(f"{path}: the issuer key must live outside the course "
                              f"repository ({repository}); choose a path such as "
                              "~/.config/mesotherapy-course/issuer-key.pem")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CredentialError(f"{path}: already exists; an issuer key is never "
                              "overwritten") from None
    except OSError as error:
        raise CredentialError(f"{path}: cannot be created ({error.strerror})") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return did_key(key.public_key())


def load_issuer_key(path: Path, repository: Path) -> Ed25519PrivateKey:
    """Read the issuer's private key, refusing one in the repository or readable by others."""
    if inside(path, repository):
        raise CredentialError(f"{path}: the issuer key must live outside the course "
                              "repository (nothing secret is kept in it)")
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise CredentialError(f"issuer key {path}: no such file (create one with `course "
                              "certificate --make-issuer-key PATH`)") from None
    except OSError as error:
        raise CredentialError(f"issuer key {path}: cannot be read ({error.strerror})") \
            from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(f"issuer key {path}: other users can read it (mode "
                              f"{stat.S_IMODE(mode):04o}); run `chmod 600 {path}`")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise CredentialError(f"issuer key {path}: not an unencrypted Ed25519 private key "
                              "in PEM form")
    return key


# ---------------------------------------------------------------- building and signing


def _activity_metadata(activity: Activity) -> dict[str, Any]:
    d = activity.dates
    return {
        "title": activity.title, "version": activity.version,
        "audience": list(activity.audience), "objectives": list(activity.objectives),
        "estimatedMinutes": activity.minutes,
        "release": d.release.isoformat(), "lastReview": d.last_review.isoformat(),
        "nextReview": d.next_review.isoformat(),
        "faculty": [{"name": f.name, "roles": list(f.roles), "disclosure": f.disclosure}
                    for f in activity.faculty],
        "disclosures": dict(activity.disclosures),
        "evidencePolicy": dict(activity.evidence_policy),
        "modules": [{"id": m.id, "title": m.title, "minutes": m.minutes,
                     "objectives": list(m.objectives)} for m in activity.modules],
    }


def build_credential(summary: CompletionSummary, activity: Activity, issuer_did: str,
                     issuer_name: str, self_study: bool, valid_from: datetime,
                     credential_id: str | None = None) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential for a completion summary."""
    profile = {"id": issuer_did, "type": ["Profile"], "name": issuer_name}
    kind = SELF_STUDY_NOTE if self_study else (
        "Results from the course gradebook, issued by the course's instructor.")
    achievement_id = uuid.uuid5(uuid.NAMESPACE_URL,
                                f"urn:x-mesotherapy-course:{activity.version}:completion")
    creator = {"id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'urn:x-mesotherapy-course')}",
               "type": ["Profile"], "name": ", ".join(f.name for f in activity.faculty)}
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT, EXTRA_CONTEXT],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{activity.title}: completion certificate"
                + (" (self-study)" if self_study else ""),
        "description": f"{kind} {LIMITS_STATEMENT}",
        "issuer": profile,
        "validFrom": valid_from.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "name",
                            "hashed": False, "identityHash": summary.learner}],
            "achievement": {
                "id": f"urn:uuid:{achievement_id}",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": activity.title,
                "description": "Study of the course's modules and a summative knowledge "
                               "assessment. Not a certificate of hands-on competence.",
                "criteria": {"narrative": activity.certificate_criteria},
                "creator": creator,
                "inLanguage": activity.language,
                "version": activity.version,
                "activityMetadata": _activity_metadata(activity),
            },
            "courseResults": {
                "issued": summary.issued.isoformat(),
                "resultsFrom": summary.source,
                "selfStudy": self_study,
                "finalAssessmentPercent": round(summary.final_percent),
                "passMarkPercent": round(100 * PASS_MARK),
                "estimatedMinutes": summary.minutes,
                "modules": [{"id": i, "title": t, "status": NOT_ASSESSED} if m is None else
                            {"id": i, "title": t, "score": f"{m.score:g}/{m.max_score:g}",
                             "percent": round(m.percent), "status": module_status(m),
                             "minutes": m.minutes}
                            for i, t, m in every_module(summary)],
            },
        },
    }


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    config = {**proof_options, "@context": document["@context"]}
    return hashlib.sha256(jcs(config)).digest() + hashlib.sha256(jcs(document)).digest()


def sign(credential: dict[str, Any], key: Ed25519PrivateKey, created: datetime
         ) -> dict[str, Any]:
    """The credential with an eddsa-jcs-2022 Data Integrity proof by ``key``."""
    did = did_key(key.public_key())
    if credential.get("issuer", {}).get("id") != did:
        raise CredentialError("credential: the issuer id must be the signing key's did:key")
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    options = {
        "type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE,
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": verification_method(did), "proofPurpose": "assertionMethod",
    }
    signature = key.sign(_hash_data(unsecured, options))
    return {**unsecured, "proof": {**options, "proofValue": "z" + b58encode(signature)}}


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str
    id: str = ""
    issuer: str = ""
    learner: str = ""
    sha256: str = ""

    def line(self) -> str:
        if not self.valid:
            return f"INVALID: {self.reason}"
        return (f"VALID: {self.id} issued by {self.issuer} to {self.learner or 'unnamed'}"
                f" (sha256 {self.sha256})")


def read_credential(path: Path) -> dict[str, Any]:
    """A credential file as a JSON object with a proof; CredentialError otherwise."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CredentialError(f"{path}: cannot be read ({error})") from None
    except json.JSONDecodeError as error:
        raise CredentialError(f"{path}: not JSON ({error.msg}, line {error.lineno})") \
            from None
    if not isinstance(document, dict) or "@context" not in document:
        raise CredentialError(f"{path}: not a verifiable credential (a JSON object with "
                              "@context)")
    if not isinstance(document.get("proof"), dict):
        raise CredentialError(f"{path}: the credential has no proof (it is not signed)")
    return document


def _learner(credential: dict[str, Any]) -> str:
    try:
        return str(credential["credentialSubject"]["identifier"][0]["identityHash"])
    except (KeyError, IndexError, TypeError):
        return ""


def verify(credential: dict[str, Any], expected_issuer: str | None = None) -> Verification:
    """Check the proof of a signed credential; never raises on a tampered one."""
    proof = credential.get("proof")
    if not isinstance(proof, dict) or "@context" not in credential:
        return Verification(False, "not a signed credential (no proof or no @context)")
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    expected = {"type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE,
                "proofPurpose": "assertionMethod"}
    for name, value in expected.items():
        if proof.get(name) != value:
            return Verification(False, f"proof {name} must be {value!r}")
    types = credential.get("type")
    if not isinstance(types, list) or not {"VerifiableCredential", "OpenBadgeCredential"} <= {
            t for t in types if isinstance(t, str)}:
        return Verification(False, "not an OpenBadgeCredential")
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    method = proof.get("verificationMethod")
    if not isinstance(issuer_id, str) or method != verification_method(issuer_id):
        return Verification(False, "the proof's key is not the issuer's did:key")
    try:
        public_key = public_key_from_did(issuer_id)
        value = proof.get("proofValue")
        if not isinstance(value, str) or not value.startswith("z"):
            raise ValueError("proofValue is not multibase base58-btc")
        signature = b58decode(value[1:])
        public_key.verify(signature, _hash_data(unsecured, options))
    except InvalidSignature:
        return Verification(False, "the signature does not match: the credential was "
                                   "changed after signing, or signed by another key")
    except (ValueError, CredentialError) as error:
        return Verification(False, f"the proof cannot be checked ({error})")
    if expected_issuer is not None and issuer_id != expected_issuer:
        return Verification(False, f"signed by {issuer_id}, not by the expected issuer "
                                   f"{expected_issuer}")
    return Verification(True, "signature valid", str(credential.get("id", "")), issuer_id,
                        _learner(credential), sha256_hex(credential))


# ---------------------------------------------------------------- the QR code's content


def qr_payload(credential: dict[str, Any]) -> str:
    """What the QR code carries: the credential's id and the SHA-256 of its JCS form."""
    return jcs({"id": credential["id"], "sha256": sha256_hex(credential)}).decode("utf-8")
