#!/usr/bin/env python3
"""An SMTP server for Jiban's end-to-end tests: it catches mail and lets tests read it.

scripts/test starts it (in a venv with aiosmtpd and cryptography) and exports the one line
of JSON it prints when everything listens as JIBAN_TEST_SMTP:

    {"smtp": "127.0.0.1:PORT", "starttls": "127.0.0.1:PORT2",
     "ca_file": "/abs/path/ca.pem", "http": "http://127.0.0.1:PORT3"}

- smtp: plain SMTP.
- starttls: SMTP that offers STARTTLS and requires it before MAIL. Its certificate (for
  `localhost` and 127.0.0.1) is signed by a CA made at start, whose PEM is `ca_file`:
  trust that file as the client's only root.
- http: what arrived, as JSON. `GET /messages[?to=ADDR]` (oldest first; a `+` in ADDR is
  a plus, not a space), `DELETE /messages`, `GET /healthz`.

Many tests share one server, so failures are chosen per recipient: a local part with
`+reject` is refused at RCPT with 550, one with `+tempfail` with 451. Everything else is
accepted and kept in memory until the server stops (SIGTERM or SIGINT).

Run it by hand:  python3 scripts/smtp-test-server.py [--smtp-port N] [--starttls-port N]
                 [--http-port N] [--cert-dir DIR]   (ports default to free ones)
"""

import argparse
import asyncio
import datetime
import email
import email.policy
import ipaddress
import json
import shutil
import signal
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from aiosmtpd.smtp import SMTP
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"


class Mailbox:
    """Every accepted message, oldest first; the SMTP loop writes, HTTP threads read."""

    def __init__(self):
        self._lock = threading.Lock()
        self._messages = []
        self._next_id = 1

    def add(self, mail_from, rcpt_tos, raw):
        message = describe(raw)
        with self._lock:
            message = {
                "id": self._next_id,
                "mail_from": mail_from,
                "rcpt_tos": list(rcpt_tos),
                **message,
            }
            self._next_id += 1
            self._messages.append(message)
        return message["id"]

    def list(self, to=None):
        with self._lock:
            messages = list(self._messages)
        if to is None:
            return messages
        to = to.lower()
        return [m for m in messages if to in (r.lower() for r in m["rcpt_tos"])]

    def clear(self):
        with self._lock:
            self._messages.clear()


def describe(raw):
    """The decoded view of one message (policy.default decodes RFC 2047, QP and base64)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    def header(name):
        value = msg.get(name)
        return None if value is None else str(value)

    def part(subtype):
        body = msg.get_body(preferencelist=(subtype,))
        return None if body is None else body.get_content()

    raw_headers = [[name, value] for name, value in msg.raw_items()]
    message_id = next(
        (v.strip() for n, v in raw_headers if n.lower() == "message-id"), None
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "from": header("from"),
        "to": header("to"),
        "subject": header("subject"),
        "message_id": message_id,
        "headers": raw_headers,
        "text": part("plain"),
        "html": part("html"),
        # JSON carries text: a stray non-UTF-8 byte becomes U+FFFD.
        "raw": raw.decode("utf-8", errors="replace"),
        "received_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


class Handler:
    """aiosmtpd hooks: refuse the `+reject`/`+tempfail` recipients, store the rest."""

    def __init__(self, mailbox):
        self.mailbox = mailbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local_part = address.rpartition("@")[0].lower()
        if "+reject" in local_part:
            return "550 5.1.1 mailbox unavailable"
        if "+tempfail" in local_part:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        n = self.mailbox.add(envelope.mail_from, envelope.rcpt_tos, raw)
        return f"250 2.0.0 OK queued as {n}"


def make_certificates(cert_dir):
    """A CA (written to ca.pem for clients to trust) and a server certificate it signs.

    Two certificates, not one self-signed: rustls (lettre's TLS) refuses a CA certificate
    used as the server's own ("CaUsedAsEndEntity"), and OpenSSL wants a CA as the root.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Jiban test SMTP CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                key_cert_sign=True, crl_sign=True, encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    ca_file = cert_dir / "ca.pem"
    cert_file = cert_dir / "server.pem"
    key_file = cert_dir / "server-key.pem"
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    cert_file.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return ca_file.resolve(), context


def http_server(mailbox, port):
    class Api(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlsplit(self.path)
            if url.path == "/healthz":
                return self.reply(200, {"status": "ok"})
            if url.path == "/messages":
                return self.reply(200, mailbox.list(to=query(url.query).get("to")))
            self.reply(404, {"error": "not found"})

        def do_DELETE(self):
            if urlsplit(self.path).path == "/messages":
                mailbox.clear()
                return self.reply(200, {"deleted": True})
            self.reply(404, {"error": "not found"})

        def reply(self, status, body):
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            pass  # Tests poll; a line per poll would bury real errors on stderr.

    server = ThreadingHTTPServer((HOST, port), Api)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def query(qs):
    """Query parameters, percent-decoded but with `+` kept: `a+b@x` is an address."""
    pairs = (p.partition("=") for p in qs.split("&") if p)
    return {unquote(k): unquote(v) for k, _, v in pairs}


async def serve(args, cert_dir):
    mailbox = Mailbox()
    handler = Handler(mailbox)
    ca_file, tls = make_certificates(cert_dir)
    loop = asyncio.get_running_loop()

    def smtp(**tls_options):
        return SMTP(handler, hostname="localhost", enable_SMTPUTF8=True, **tls_options)

    plain = await loop.create_server(smtp, HOST, args.smtp_port)
    starttls = await loop.create_server(
        lambda: smtp(tls_context=tls, require_starttls=True), HOST, args.starttls_port
    )
    http = http_server(mailbox, args.http_port)

    def port(server):
        return server.sockets[0].getsockname()[1]

    ready = {
        "smtp": f"{HOST}:{port(plain)}",
        "starttls": f"{HOST}:{port(starttls)}",
        "ca_file": str(ca_file),
        "http": f"http://{HOST}:{http.server_address[1]}",
    }
    print(json.dumps(ready), flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    plain.close()
    starttls.close()
    http.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smtp-port", type=int, default=0)
    parser.add_argument("--starttls-port", type=int, default=0)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument(
        "--cert-dir", type=Path, help="where ca.pem goes (default: a temporary folder)"
    )
    args = parser.parse_args()
    if args.cert_dir:
        args.cert_dir.mkdir(parents=True, exist_ok=True)
        asyncio.run(serve(args, args.cert_dir))
    else:
        cert_dir = Path(tempfile.mkdtemp(prefix="jiban-smtp-"))
        try:
            asyncio.run(serve(args, cert_dir))
        finally:
            shutil.rmtree(cert_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
