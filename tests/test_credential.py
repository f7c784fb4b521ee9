"""The verifiable certificate: signing, verification, tampering, keys, PDF, QR and CLI."""

from __future__ import annotations

import copy
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from course.activity import activity
from course.certificate import FINAL_ASSESSMENT, CompletionSummary, summarise
from course.certificate_pdf import qr_code, write_pdf
from course.cli import main
from course.credential import (
    CRYPTOSUITE,
    SELF_STUDY_NOTE,
    CredentialError,
    _hash_data,
    b58decode,
    b58encode,
    build_credential,
    did_key,
    jcs,
    load_issuer_key,
    make_issuer_key,
    public_key_from_did,
    qr_payload,
    read_credential,
    sha256_hex,
    sign,
    verify,
)
from course.syllabus import course_map

from .conftest import ROOT

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
SCORES = {"00-orientation": (1, 1), "01-principles": (15, 18), "02-substances": (14, 20),
          "03-risk-assessment": (18, 24), "04-case-studies": (20, 32),
          FINAL_ASSESSMENT: (22, 25)}


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def summary() -> CompletionSummary:
    return summarise("Zoë O'Neill", SCORES, date(2026, 12, 2), "self-study checks")


def _signed(summary: CompletionSummary, key: Ed25519PrivateKey,
            self_study: bool = True) -> dict[str, Any]:
    did = did_key(key.public_key())
    return sign(build_credential(summary, activity(), did, "Test issuer", self_study, NOW),
                key, NOW)


@pytest.fixture(scope="module")
def credential(summary: CompletionSummary, key: Ed25519PrivateKey) -> dict[str, Any]:
    return _signed(summary, key)


# ---------------------------------------------------------------- the standards' own vectors


def test_jcs_sorts_by_utf16_code_units_and_is_compact() -> None:
    # RFC 8785 §3.2.3: property sorting by UTF-16 code units
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\x80", "\xf6"]
    canonical = jcs(dict.fromkeys(keys, 0)).decode()
    order = [json.loads(k) for k in canonical[1:-1].replace(":0", "").split(",")]
    assert order == ["\r", "1", "\x80", "\xf6", "\u20ac", "\U0001f600", "\ufb33"]
    assert jcs({"b": [1, 2.5, 3.0, None, True], "a": "é\n"}) == \
        '{"a":"é\\n","b":[1,2.5,3,null,true]}'.encode()


def test_signing_reproduces_the_w3c_eddsa_jcs_2022_test_vector() -> None:
    """vc-di-eddsa TestVectors/eddsa-jcs-2022 (keyPair.json, combinedHash, sigHex)."""
    secret = b58decode("3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv
    key = Ed25519PrivateKey.from_private_bytes(secret[2:])
    did = did_key(key.public_key())
    assert did == "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": "https://vc.example/issuers/5678",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh",
                              "alumniOf": "The School of Examples"},
    }
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
               "created": "2023-02-24T23:36:38Z",
               "verificationMethod": f"{did}#{did.removeprefix('did:key:')}",
               "proofPurpose": "assertionMethod"}
    hash_data = _hash_data(document, options)
    assert hash_data.hex() == (
        "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
        "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19")
    signature = key.sign(hash_data)
    assert signature.hex() == (
        "407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b803"
        "51da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808")
    assert "z" + b58encode(signature) == ("z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJ"
                                          "DMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX")


def test_did_key_round_trip(key: Ed25519PrivateKey) -> None:
    did = did_key(key.public_key())
    assert did.startswith("did:key:z6Mk")
    assert public_key_from_did(did).public_bytes_raw() == key.public_key().public_bytes_raw()
    for bad in ("did:key:zQ3s", "did:web:example.org", "did:key:z0OIl"):
        with pytest.raises(ValueError):
            public_key_from_did(bad)


# ---------------------------------------------------------------- the credential


def test_the_credential_is_an_open_badge_with_the_activity_metadata(
        credential: dict[str, Any]) -> None:
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert "ob/v3p0" in credential["@context"][1]
    assert credential["id"].startswith("urn:uuid:")
    assert credential["validFrom"] == "2026-12-02T09:30:00Z"
    assert credential["issuer"]["id"].startswith("did:key:z6Mk")
    subject = credential["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == "Zoë O'Neill"
    achievement = subject["achievement"]
    assert "70%" in achievement["criteria"]["narrative"]
    metadata = achievement["activityMetadata"]
    a = activity()
    assert metadata["objectives"] == list(a.objectives)
    assert metadata["nextReview"] == a.dates.next_review.isoformat()
    assert "no commercial support" in metadata["disclosures"]["commercial_support"].lower()
    assert "OCEBM" in metadata["evidencePolicy"]["levels"]
    assert subject["courseResults"]["finalAssessmentPercent"] == 88
    # every module of the course map, each with its status
    modules = subject["courseResults"]["modules"]
    assert [m["id"] for m in modules] == [a.id for a in course_map()]
    status = {m["id"]: m["status"] for m in modules}
    assert status[FINAL_ASSESSMENT] == "passed" and status["01-principles"] == "completed"
    assert status["00-review"] == status["06-evaluation"] == "not assessed"
    assert credential["proof"]["cryptosuite"] == CRYPTOSUITE


def test_a_self_study_certificate_says_so(summary: CompletionSummary,
                                          key: Ed25519PrivateKey,
                                          credential: dict[str, Any]) -> None:
    assert credential["description"].startswith(SELF_STUDY_NOTE)
    assert "(self-study)" in credential["name"]
    assert "hands-on competence" in credential["description"]
    instructor = _signed(summary, key, self_study=False)
    assert "self-study" not in instructor["name"] + instructor["description"].split(".")[0]


def test_every_credential_id_is_unique(summary: CompletionSummary,
                                       key: Ed25519PrivateKey) -> None:
    assert len({_signed(summary, key)["id"] for _ in range(5)}) == 5


def test_a_signed_credential_verifies(credential: dict[str, Any]) -> None:
    result = verify(copy.deepcopy(credential))
    assert result.valid, result.reason
    assert result.learner == "Zoë O'Neill" and result.id == credential["id"]
    assert result.issuer == credential["issuer"]["id"]
    assert result.sha256 == sha256_hex(credential)
    assert verify(credential, expected_issuer=credential["issuer"]["id"]).valid


def _leaves(value: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return value[:-1] + ("x" if not value.endswith("x") else "y")


def test_changing_any_field_or_the_proof_fails(credential: dict[str, Any]) -> None:
    paths = list(_leaves(credential))
    assert len(paths) > 80 and ("proof", "proofValue") in paths
    for path in paths:
        tampered = copy.deepcopy(credential)
        holder = tampered
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = _changed(holder[path[-1]])
        result = verify(tampered)
        assert not result.valid, f"changing {'/'.join(map(str, path))} was not detected"


@pytest.mark.parametrize("change", ["add field", "remove field", "reorder modules",
                                    "drop proof", "remove @context entry"])
def test_structural_changes_fail(credential: dict[str, Any], change: str) -> None:
    tampered = copy.deepcopy(credential)
    results = tampered["credentialSubject"]["courseResults"]
    if change == "add field":
        tampered["expires"] = "never"
    elif change == "remove field":
        del tampered["description"]
    elif change == "reorder modules":
        results["modules"].reverse()
    elif change == "drop proof":
        del tampered["proof"]
    else:
        tampered["@context"].pop()
    assert not verify(tampered).valid


def test_key_order_and_whitespace_do_not_matter(credential: dict[str, Any]) -> None:
    reordered = json.loads(json.dumps(credential, sort_keys=True, indent=4))
    assert verify(reordered).valid


def test_another_issuer_key_fails(summary: CompletionSummary, key: Ed25519PrivateKey,
                                  credential: dict[str, Any]) -> None:
    other = Ed25519PrivateKey.generate()
    other_did = did_key(other.public_key())
    swapped = copy.deepcopy(credential)  # claim another issuer, keep the old signature
    swapped["issuer"]["id"] = other_did
    swapped["proof"]["verificationMethod"] = f"{other_did}#{other_did[8:]}"
    assert "signature does not match" in verify(swapped).reason
    mismatch = copy.deepcopy(credential)  # the proof names a key that is not the issuer's
    mismatch["proof"]["verificationMethod"] = f"{other_did}#{other_did[8:]}"
    assert "not the issuer's" in verify(mismatch).reason
    forged = copy.deepcopy(credential)  # the real issuer named, signed with another key
    options = {k: v for k, v in forged["proof"].items() if k != "proofValue"}
    unsecured = {k: v for k, v in forged.items() if k != "proof"}
    forged["proof"]["proofValue"] = "z" + b58encode(other.sign(_hash_data(unsecured, options)))
    assert "signature does not match" in verify(forged).reason
    resigned = _signed(summary, other)  # a valid signature, but from an unexpected issuer
    assert verify(resigned).valid
    result = verify(resigned, expected_issuer=credential["issuer"]["id"])
    assert not result.valid and "not by the expected issuer" in result.reason
    with pytest.raises(CredentialError, match="issuer id must be the signing key"):
        sign({k: v for k, v in credential.items() if k != "proof"}, other, NOW)


# ---------------------------------------------------------------- keys on disk


def test_issuer_key_file_is_private_and_outside_the_repository(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "issuer-key.pem"
    did = make_issuer_key(path, ROOT)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_issuer_key(path, ROOT)
    assert did_key(key.public_key()) == did
    with pytest.raises(CredentialError, match="never overwritten"):
        make_issuer_key(path, ROOT)
    with pytest.raises(CredentialError, match="outside the course repository"):
        make_issuer_key(ROOT / "issuer-key.pem", ROOT)
    assert not (ROOT / "issuer-key.pem").exists()
    path.chmod(0o644)
    with pytest.raises(CredentialError, match="chmod 600"):
        load_issuer_key(path, ROOT)


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"),
    (b"not a key", "not an unencrypted Ed25519 private key"),
    (b"", "not an unencrypted Ed25519 private key"),
])
def test_unusable_key_files_are_named(tmp_path: Path, content: bytes | None,
                                      message: str) -> None:
    path = tmp_path / "key.pem"
    if content is not None:
        path.write_bytes(content)
        path.chmod(0o600)
    with pytest.raises(CredentialError, match=message):
        load_issuer_key(path, ROOT)


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not JSON"),
    ("[1, 2]", "not a verifiable credential"),
    ('{"@context": []}', "has no proof"),
    (b"\xff\xfe", "cannot be read"),
])
def test_malformed_credential_files_are_bad_input(tmp_path: Path, text: str | bytes,
                                                  message: str) -> None:
    path = tmp_path / "c.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(CredentialError, match=message):
        read_credential(path)


# ---------------------------------------------------------------- PDF and QR code


def test_qr_payload_carries_the_id_and_hash(credential: dict[str, Any]) -> None:
    payload = json.loads(qr_payload(credential))
    assert payload == {"id": credential["id"], "sha256": verify(credential).sha256}
    code = qr_code(qr_payload(credential))
    assert code.error == "M" and not code.is_micro
    # segno cannot read a code back; re-encoding the payload must give the same matrix
    assert code.matrix == segno.make(qr_payload(credential), error="m").matrix


@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                    reason="reading the QR code back needs poppler-utils and zbar-tools")
def test_the_qr_code_in_the_pdf_reads_back_as_the_payload(
        tmp_path: Path, summary: CompletionSummary, credential: dict[str, Any]) -> None:
    write_pdf(summary, credential, tmp_path / "c.pdf", self_study=True)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(tmp_path / "c.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    read = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "page.png")],
                          capture_output=True, text=True, timeout=60)
    assert read.stdout.strip() == qr_payload(credential)


def test_the_pdf_has_the_learner_result_limits_and_the_credential_id(
        tmp_path: Path, summary: CompletionSummary, credential: dict[str, Any]) -> None:
    path = write_pdf(summary, credential, tmp_path / "c.pdf", self_study=True,
                     compress=False)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    for text in ("Certificate of completion", "Zo\\353 O'Neill".encode("latin-1").decode(),
                 credential["id"], "not a certificate of competence",
                 "Self-study certificate", sha256_hex(credential)[:20], "Status",
                 "passed", "completed", "Post-course evaluation", "not assessed"):
        assert text.encode("latin-1") in data, text


def test_an_example_certificate_is_written_to_test_output(summary: CompletionSummary,
                                                          key: Ed25519PrivateKey) -> None:
    folder = ROOT / "test-output"
    folder.mkdir(exist_ok=True)
    example = summarise("Example Learner", SCORES, date.today(), "self-study checks")
    credential = _signed(example, key)
    (folder / "example-certificate.credential.json").write_text(
        json.dumps(credential, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_pdf(example, credential, folder / "example-certificate.pdf", self_study=True)
    stored = read_credential(folder / "example-certificate.credential.json")
    assert verify(stored).valid
    assert (folder / "example-certificate.pdf").read_bytes().startswith(b"%PDF")


def test_the_readme_says_what_the_certificate_proves_and_does_not() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "**What the certificate proves, and what it does not.** It proves that" in readme
    assert "**not a certificate of hands-on competence**" in readme
    assert "outside the repository" in readme and "course verify" in readme
    guide = " ".join((ROOT / "docs" / "certificates.md").read_text(encoding="utf-8").split())
    assert "lives in a file **outside the repository**" in guide


# ---------------------------------------------------------------- the command line


@pytest.fixture
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "issuer-key.pem"
    assert main(["certificate", "--make-issuer-key", str(path)]) == 0
    return path


def _passed(course_copy: Path) -> None:
    (course_copy / "assignments" / "progress.json").write_text(json.dumps(
        {a: {"score": s, "max_score": m} for a, (s, m) in SCORES.items()}), encoding="utf-8")


def test_make_issuer_key_command(key_file: Path, course_copy: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    another = key_file.with_name("another.pem")
    assert main(["certificate", "--make-issuer-key", str(another)]) == 0
    did = did_key(load_issuer_key(another, ROOT).public_key())
    assert f"Public identity (publish this so employers can check certificates): {did}" \
        in capsys.readouterr().out
    assert main(["certificate", "--make-issuer-key", str(key_file)]) == 2
    err = capsys.readouterr().err
    assert "never overwritten" in err and len(err.strip().splitlines()) == 1
    assert main(["certificate", "--make-issuer-key", str(course_copy / "k.pem")]) == 2
    assert "outside the course repository" in capsys.readouterr().err


def test_certificate_verifiable_then_verify(course_copy: Path, key_file: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _passed(course_copy)
    assert main(["certificate", "--self-study", "--name", "Ana", "--verifiable",
                 "--issuer-key", str(key_file)]) == 0
    folder = course_copy / "assignments"
    signed = folder / "completion-summary.credential.json"
    assert (folder / "completion-summary.pdf").read_bytes().startswith(b"%PDF")
    capsys.readouterr()
    assert main(["verify", str(signed)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "VALID" in out and "to Ana" in out
    did = json.loads(signed.read_text(encoding="utf-8"))["issuer"]["id"]
    assert main(["verify", str(signed), "--issuer", did]) == 0
    assert main(["verify", str(signed), "--issuer", "did:key:z6MkOther"]) == 1
    tampered = folder / "tampered.json"
    tampered.write_text(signed.read_text(encoding="utf-8").replace('"Ana"', '"Bob"'),
                        encoding="utf-8")
    capsys.readouterr()
    assert main(["verify", str(tampered)]) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "INVALID: the signature does not match" in out


def test_key_from_the_environment(course_copy: Path, key_file: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _passed(course_copy)
    monkeypatch.setenv("COURSE_ISSUER_KEY", str(key_file))
    assert main(["certificate", "--self-study", "--verifiable"]) == 0
    assert (course_copy / "assignments" / "completion-summary.credential.json").exists()


@pytest.mark.parametrize("problem", ["no key", "missing file", "key in repository",
                                     "not a key"])
def test_certificate_bad_key_is_one_line_and_writes_nothing(
        course_copy: Path, problem: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    _passed(course_copy)
    monkeypatch.delenv("COURSE_ISSUER_KEY", raising=False)
    outside = tmp_path_factory.mktemp("bad")
    paths = {"missing file": outside / "none.pem", "key in repository": course_copy / "k.pem",
             "not a key": outside / "junk.pem"}
    (outside / "junk.pem").write_text("junk")
    os.chmod(outside / "junk.pem", 0o600)
    (course_copy / "k.pem").write_text("junk")
    argv = ["certificate", "--self-study", "--verifiable"]
    if problem in paths:
        argv += ["--issuer-key", str(paths[problem])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "issuer" in err
    assert list((course_copy / "assignments").iterdir()) == \
        [course_copy / "assignments" / "progress.json"]


@pytest.mark.parametrize(("content", "code"), [(None, 2), ("{", 2), ('{"@context": []}', 2),
                                               ('{"@context": [], "proof": {}}', 1)])
def test_verify_exit_codes_for_bad_files(tmp_path: Path, content: str | None, code: int,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["verify", str(path)]) == code
    captured = capsys.readouterr()
    assert len((captured.out + captured.err).strip().splitlines()) == 1
