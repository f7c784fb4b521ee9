"""The command-line side of the verifiable certificate (wired into ``course.cli``).

``course certificate --make-issuer-key PATH`` creates the issuer's key;
``course certificate … --verifiable`` also writes a PDF and a signed credential;
``course verify FILE`` checks a credential: exit 0 valid, 1 invalid, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line stays quick to start: cryptography loads when used
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from course.certificate import CompletionSummary

VALID, INVALID = 0, 1
ISSUER_KEY_ENV = "COURSE_ISSUER_KEY"


def add_certificate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verifiable", action="store_true",
                        help="also write a PDF with a QR code and a signed Open Badges 3.0 "
                             f"credential (needs --issuer-key or ${ISSUER_KEY_ENV})")
    parser.add_argument("--issuer-key", metavar="PATH",
                        help=f"the issuer's Ed25519 private key, outside the repository "
                             f"(default: ${ISSUER_KEY_ENV})")
    parser.add_argument("--issuer-name", help="the issuer's name on the credential")
    parser.add_argument("--make-issuer-key", metavar="PATH",
                        help="create a new issuer key file (mode 0600) and print its did:key")


def add_verify_command(commands: argparse._SubParsersAction,
                       run: Callable[[argparse.Namespace, Path], int]) -> None:
    verify_parser = commands.add_parser(
        "verify", help="check a signed certificate (exit 0 valid, 1 invalid, 2 bad input)")
    verify_parser.add_argument("file", metavar="FILE", help="a .credential.json file")
    verify_parser.add_argument("--issuer", metavar="DID",
                               help="the did:key the issuer publishes; any other signer fails")
    verify_parser.set_defaults(run=run)


def make_issuer_key_command(path: Path, root: Path) -> int:
    from course.credential import make_issuer_key

    did = make_issuer_key(path.expanduser(), root)
    print(f"Issuer key written to {path} (mode 0600; keep it secret, back it up, never "
          "commit it).")
    print(f"Public identity (publish this so employers can check certificates): {did}")
    return 0


def issuer_key(args: argparse.Namespace, root: Path) -> Ed25519PrivateKey:
    """The key named by --issuer-key or $COURSE_ISSUER_KEY; CredentialError if none."""
    from course.credential import CredentialError, load_issuer_key

    location = args.issuer_key or os.environ.get(ISSUER_KEY_ENV)
    if not location:
        raise CredentialError(f"--verifiable needs the issuer's key: give --issuer-key PATH "
                              f"or set {ISSUER_KEY_ENV} (create one with --make-issuer-key "
                              "PATH, outside the repository)")
    return load_issuer_key(Path(location).expanduser(), root)


def write_verifiable(summary: CompletionSummary, output: Path, key: Ed25519PrivateKey,
                     args: argparse.Namespace) -> list[Path]:
    """Write OUTPUT.credential.json (signed) and OUTPUT.pdf beside the HTML summary."""
    import json

    from course.activity import activity
    from course.certificate_pdf import write_pdf
    from course.credential import build_credential, did_key, sign

    self_study = bool(args.self_study)
    name = args.issuer_name or ("Self-study learner (self-issued)" if self_study
                                else "Course instructor")
    now = datetime.now(UTC)
    credential = sign(build_credential(summary, activity(), did_key(key.public_key()), name,
                                       self_study, now), key, now)
    json_path = output.with_suffix(".credential.json")
    json_path.write_text(json.dumps(credential, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    pdf_path = write_pdf(summary, credential, output.with_suffix(".pdf"), self_study)
    print(f"Signed credential written to {json_path} ({credential['id']})")
    print(f"PDF with QR code written to {pdf_path}")
    return [json_path, pdf_path]


def cmd_verify(args: argparse.Namespace, root: Path) -> int:
    from course.credential import read_credential, verify

    result = verify(read_credential(Path(args.file)), args.issuer)
    print(f"{args.file}: {result.line()}")
    return VALID if result.valid else INVALID
