"""`claimflow certs`: a private CA and server certificates for a self-contained stack (deploy/compose.yaml, tests).

An operator with a PKI of their own uses its certificates instead; these are for a stack whose parts only
talk to each other. Keys are ECDSA P-256; certificates name their hosts (DNS names or IP addresses).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
#: How long the certificates live; run `claimflow certs` again to renew.
VALIDITY = timedelta(days=397)


@dataclass(frozen=True)
class ServerCertificate:
    """Where one server's certificate chain and key were written."""

    cert_file: Path
    key_file: Path


def write_certificates(folder: Path, servers: dict[str, list[str]], *, now: datetime | None = None) -> Path:
    """A CA (`ca.pem`; its key is discarded: nothing more can be issued by it) and, for each server name, a
    certificate for its hosts (`<name>.pem`, leaf then CA) and its key (`<name>-key.pem`, mode 0600).
    Returns the CA file. Existing files are replaced."""
    if not servers:
        raise ValueError("name at least one server and its hosts")
    folder.mkdir(parents=True, exist_ok=True)
    issued = now or datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "claimflow private CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued - timedelta(minutes=5))
        .not_valid_after(issued + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    (folder / CA_FILE).write_bytes(ca_pem)
    for name, hosts in servers.items():
        server_certificate(folder, name, hosts, ca=ca, ca_key=ca_key, issued=issued)
    return folder / CA_FILE


def server_certificate(
    folder: Path,
    name: str,
    hosts: list[str],
    *,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    issued: datetime,
) -> ServerCertificate:
    if not hosts:
        raise ValueError(f"server {name} needs at least one host name or address")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued - timedelta(minutes=5))
        .not_valid_after(issued + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([_general_name(host) for host in hosts]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = ServerCertificate(cert_file=folder / f"{name}.pem", key_file=folder / f"{name}-key.pem")
    files.cert_file.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(files.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key_pem)
    files.key_file.chmod(0o600)
    return files


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
