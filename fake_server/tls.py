"""Self-signed TLS certificate for the fake server's FTPS front end.

The certificate names 127.0.0.1 (and `localhost`) so that a client that
verifies host names accepts it once it trusts the certificate itself, which
acts as its own CA: pass its path as the client's CA file.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

logger = logging.getLogger(__name__)

CERTIFICATE_NAME = "ftps-cert.pem"
KEY_NAME = "ftps-key.pem"
# Long enough for any test run, short enough that a leaked file soon expires.
VALIDITY = datetime.timedelta(days=30)


@dataclass(frozen=True)
class CertificateFiles:
    """PEM files of a certificate and its private key."""

    certificate: Path
    key: Path


def ensure_certificate(folder: Path, address: str = "127.0.0.1") -> CertificateFiles:
    """Create a self-signed certificate for the IP `address` in `folder`.

    Raises ValueError when `address` is not an IP address.
    An existing pair is reused while it has more than a day of validity left.
    Returns the paths of the certificate (also the CA file to give clients)
    and of its unencrypted private key, which is readable by the owner only.
    """
    files = CertificateFiles(folder / CERTIFICATE_NAME, folder / KEY_NAME)
    if _is_usable(files):
        return files

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _self_signed(key, address)
    files.key.touch(mode=0o600, exist_ok=True)
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    logger.info(
        "created a self-signed certificate for %s in %s", address, files.certificate
    )
    return files


def _self_signed(key: ec.EllipticCurvePrivateKey, address: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    now = datetime.datetime.now(datetime.UTC)
    alternative_names = x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address(address)), x509.DNSName("localhost")]
    )
    # The certificate is both the trust anchor and the server's certificate,
    # so it carries the extensions OpenSSL's strict checks ask of each.
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    key_id = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(alternative_names, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .add_extension(key_id, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(key_id),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )


def _is_usable(files: CertificateFiles) -> bool:
    if not (files.certificate.is_file() and files.key.is_file()):
        return False
    try:
        certificate = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    except ValueError:
        return False
    remaining = certificate.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return remaining > datetime.timedelta(days=1)
