"""Mutual TLS to Temporal: the settings name this service's certificate, key and CA, and the client the
API and the worker connect with presents them. Checked with certificates made by
deploy/temporal/make-certs.sh, through a TLS front that, like Temporal's frontend with
requireClientAuth, accepts only clients whose certificate the CA signed.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import TLSConfig

from safeguarding.platform.settings import Settings
from tests.conftest import start_dev_server

ROOT = Path(__file__).resolve().parent.parent
MAKE_CERTS = ROOT / "deploy" / "temporal" / "make-certs.sh"


def make_certs(directory: Path) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: deploy/temporal/make-certs.sh needs it")
    subprocess.run(["sh", str(MAKE_CERTS), str(directory)], check=True, capture_output=True)
    return directory


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certs(tmp_path_factory.mktemp("certs"))


def settings_for(certs: Path, client: str = "worker") -> Settings:
    return Settings(
        temporal_tls_cert=certs / f"{client}.pem",
        temporal_tls_key=certs / f"{client}.key",
        temporal_tls_ca=certs / "ca.pem",
        temporal_tls_server_name="temporal",
    )


def test_without_tls_settings_the_client_connects_in_the_clear() -> None:
    assert Settings().temporal_tls() is False


def test_tls_settings_build_the_clients_tls_config_from_the_files(certs: Path) -> None:
    tls = settings_for(certs, "api").temporal_tls()
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == (certs / "api.pem").read_bytes()
    assert tls.client_private_key == (certs / "api.key").read_bytes()
    assert tls.server_root_ca_cert == (certs / "ca.pem").read_bytes()
    assert tls.domain == "temporal"


def test_a_certificate_without_its_key_is_refused(certs: Path) -> None:
    with pytest.raises(ValueError, match="together"):
        Settings(temporal_tls_cert=certs / "api.pem").temporal_tls()


def test_the_certificates_are_signed_by_the_ca_for_their_use(certs: Path) -> None:
    for name, usage in [
        ("temporal", "TLS Web Server Authentication"),
        ("api", "TLS Web Client Authentication"),
    ]:
        text = subprocess.run(
            ["openssl", "x509", "-in", str(certs / f"{name}.pem"), "-noout", "-text"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert usage in text, name
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(certs / "ca.pem")]
        + [
            str(certs / f"{name}.pem") for name in ("temporal", "api", "worker", "temporal-ui", "admin-tools")
        ],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def mutual_tls_front(certs: Path, target: str) -> asyncio.Server:
    """Terminates TLS as Temporal's frontend does with requireClientAuth, then passes the bytes on."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=certs / "ca.pem")
    context.load_cert_chain(certs / "temporal.pem", certs / "temporal.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, port = target.rsplit(":", 1)

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))

    return await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)


@pytest.fixture
async def front(certs: Path) -> AsyncIterator[str]:
    async with await start_dev_server() as environment:
        server = await mutual_tls_front(certs, environment.client.service_client.config.target_host)
        async with server:
            host, port = server.sockets[0].getsockname()[:2]
            yield f"{host}:{port}"


async def test_the_service_connects_with_its_client_certificate(front: str, certs: Path) -> None:
    client = await Client.connect(front, tls=settings_for(certs, "worker").temporal_tls())
    assert await client.service_client.check_health()


async def test_a_client_without_a_certificate_is_turned_away(front: str, certs: Path) -> None:
    server_only = TLSConfig(server_root_ca_cert=(certs / "ca.pem").read_bytes(), domain="temporal")
    with pytest.raises(RuntimeError):
        client = await Client.connect(front, tls=server_only)
        await client.service_client.check_health()


async def test_a_certificate_from_another_ca_is_turned_away(front: str, certs: Path, tmp_path: Path) -> None:
    stranger = make_certs(tmp_path / "stranger")
    tls = TLSConfig(
        server_root_ca_cert=(certs / "ca.pem").read_bytes(),
        domain="temporal",
        client_cert=(stranger / "worker.pem").read_bytes(),
        client_private_key=(stranger / "worker.key").read_bytes(),
    )
    with pytest.raises(RuntimeError):
        client = await Client.connect(front, tls=tls)
        await client.service_client.check_health()
