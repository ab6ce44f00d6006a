"""The agency's signing key and certificate, and PDF signatures with them (pyHanko).

Where the key and certificate come from, first found wins:

1. the environment: TAKEDOWN_SIGNING_KEY and TAKEDOWN_SIGNING_CERT (PEM file paths; the key may
   be encrypted, its passphrase in TAKEDOWN_SIGNING_KEY_PASSPHRASE) — production's own;
2. the private directory: <TAKEDOWN_PRIVATE_DIR>/signing/<agency slug>/key.pem and cert.pem, where
   `setup --demo` writes a self-signed pair for the demo agency (never under static files).

An RFC 3161 time stamp is added when TAKEDOWN_TSA_URL names a time-stamp authority.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.utils.translation import gettext as _

from takedown.errors import Invalid

T = TypeVar("T")


def _outside_event_loop(fn: Callable[[], T]) -> T:
    """pyHanko's synchronous calls run their own event loop (asyncio.run): from a thread that
    already runs one (an async server, a browser driver), they run on a thread of their own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


@dataclass(frozen=True)
class SigningFiles:
    key: Path
    cert: Path
    passphrase: bytes | None


def _private_pair(slug: str) -> tuple[Path, Path]:
    folder = Path(settings.TAKEDOWN_PRIVATE_DIR) / "signing" / slug
    return folder / "key.pem", folder / "cert.pem"


def _check_organisation(cert: Path, agency_slug: str) -> None:
    """Invalid when the certificate's organisation is not the agency's name (English or Korean):
    one installation-wide certificate must not sign another agency's dossiers."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from takedown.models import Agency

    agency = Agency.objects.filter(slug=agency_slug).values("name", "name_ko").first()
    if agency is None:
        return
    orgs = {
        a.value
        for a in x509.load_pem_x509_certificate(cert.read_bytes()).subject.get_attributes_for_oid(
            NameOID.ORGANIZATION_NAME
        )
    }
    names = {n[:64] for n in (agency["name"], agency["name_ko"]) if n}
    if not orgs & names:
        raise Invalid(
            _("The signing certificate names another organisation (%(orgs)s), not %(agency)s: refused.")
            % {"orgs": ", ".join(sorted(orgs)) or "-", "agency": agency["name"]}
        )


def signing_files(agency_slug: str) -> SigningFiles:
    """The key and certificate that sign this agency's dossiers; Invalid when there are none, or
    when the configured certificate names another organisation than the agency."""
    key, cert = settings.TAKEDOWN_SIGNING_KEY, settings.TAKEDOWN_SIGNING_CERT
    if key and cert:
        phrase = settings.TAKEDOWN_SIGNING_KEY_PASSPHRASE
        _check_organisation(Path(cert), agency_slug)
        return SigningFiles(Path(key), Path(cert), phrase.encode() if phrase else None)
    key_path, cert_path = _private_pair(agency_slug)
    if key_path.is_file() and cert_path.is_file():
        return SigningFiles(key_path, cert_path, None)
    raise Invalid(
        _(
            "No signing certificate for this agency: set TAKEDOWN_SIGNING_KEY and TAKEDOWN_SIGNING_CERT, "
            "or run `manage.py setup --demo` for the demo agency's self-signed one."
        )
    )


def certificate_pem(agency_slug: str) -> bytes:
    return signing_files(agency_slug).cert.read_bytes()


def create_self_signed(agency_slug: str, agency_name: str, *, days: int = 3650) -> tuple[Path, Path, bool]:
    """A self-signed key and certificate for an agency in the private directory (kept if present)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key_path, cert_path = _private_pair(agency_slug)
    if key_path.is_file() and cert_path.is_file():
        return key_path, cert_path, False
    key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{agency_name} (self-signed, demo)"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency_name[:64]),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .sign(key, hashes.SHA256())
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path, True


def sign_pdf(
    pdf: bytes, *, agency_slug: str, reason: str, attachments: dict[str, bytes] | None = None
) -> bytes:
    """The PDF with `attachments` embedded and then signed over the whole file (PAdES, SHA-256)."""
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.timestamps import HTTPTimeStamper

    files = signing_files(agency_slug)
    signer = signers.SimpleSigner.load(str(files.key), str(files.cert), key_passphrase=files.passphrase)
    if signer is None:
        raise Invalid(_("The signing key or certificate could not be read."))
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for name, data in (attachments or {}).items():
        embed.embed_file(
            writer,
            embed.FileSpec(
                file_spec_string=name,
                embedded_data=embed.EmbeddedFileObject.from_file_data(
                    writer, data=data, mime_type="application/json"
                ),
            ),
        )
    meta = signers.PdfSignatureMetadata(field_name="Dossier", md_algorithm="sha256", reason=reason)
    tsa = settings.TAKEDOWN_TSA_URL
    timestamper = HTTPTimeStamper(tsa) if tsa else None
    out = _outside_event_loop(lambda: signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper))
    return out.getvalue()


@dataclass
class SignatureCheck:
    intact: bool
    valid: bool
    whole_file: bool
    trusted: bool
    signer: str
    attachments: dict[str, bytes]
    problem: str = ""
    signer_der: bytes = b""

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.whole_file and not self.problem


def _attachments(reader) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    names = reader.root.get("/Names")
    if names is None:
        return found
    embedded = names.get_object().get("/EmbeddedFiles")
    if embedded is None:
        return found
    pairs = embedded.get_object().get("/Names")
    pairs = pairs.get_object() if pairs is not None else []
    for i in range(0, len(pairs) - 1, 2):
        spec = pairs[i + 1].get_object()
        found[str(pairs[i])] = spec["/EF"]["/F"].get_object().data
    return found


def verify_pdf(pdf: bytes, cert_pem: bytes) -> SignatureCheck:
    """Is the PDF signed, unchanged since, over the whole file, by the key of `cert_pem`?"""
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        _type, _headers, der = pem.unarmor(cert_pem)
        root = x509.Certificate.load(der)
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        sigs = reader.embedded_signatures
        if len(sigs) != 1:
            return SignatureCheck(False, False, False, False, "", {}, f"{len(sigs)} signatures, expected 1")
        context = ValidationContext(trust_roots=[root])
        status = _outside_event_loop(lambda: validate_pdf_signature(sigs[0], context))
        attachments = _attachments(reader)
    except Exception as exc:  # a damaged PDF or certificate: not verified, whatever the cause
        return SignatureCheck(False, False, False, False, "", {}, f"{type(exc).__name__}: {exc}")
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    return SignatureCheck(
        intact=status.intact,
        valid=status.valid,
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        trusted=status.trusted,
        signer=status.signing_cert.subject.human_friendly if status.signing_cert else "",
        attachments=attachments,
        signer_der=status.signing_cert.dump() if status.signing_cert else b"",
    )


def pem_der(cert_pem: bytes) -> bytes:
    """The DER bytes of a PEM certificate (ValueError when it is not one)."""
    from asn1crypto import pem

    if not pem.detect(cert_pem):
        raise ValueError("not a PEM certificate")
    _type, _headers, der = pem.unarmor(cert_pem)
    return der


def fingerprint(der: bytes) -> str:
    """The certificate's SHA-256 fingerprint, as AA:BB:..."""
    import hashlib

    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
