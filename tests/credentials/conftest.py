import base64
import hashlib
import json
import os

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential


def totp_token(device) -> str:
    """The code an authenticator app would show right now for this device."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftwareSecurityKey:
    """A security key in software: a P-256 key pair that signs WebAuthn assertions
    exactly as a hardware authenticator would, so the real verification runs."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def enrol(self, user, name="蓝色 USB 密钥"):
        return WebAuthnCredential.objects.create(
            user=user,
            name=name,
            credential_id=self.credential_id,
            public_key=self.cose_public_key(),
            sign_count=0,
            aaguid="00000000-0000-0000-0000-000000000000",
            confirmed=True,
        )

    def assertion(self, options: dict) -> dict:
        origin = settings.OTP_WEBAUTHN_ALLOWED_ORIGINS[0]
        client_data = json.dumps(
            {"type": "webauthn.get", "challenge": options["challenge"], "origin": origin}
        ).encode()
        self.sign_count += 1
        authenticator_data = (
            hashlib.sha256(settings.OTP_WEBAUTHN_RP_ID.encode()).digest()
            + bytes([0x01])  # user present
            + self.sign_count.to_bytes(4, "big")
        )
        signature = self.private_key.sign(
            authenticator_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(authenticator_data),
                "signature": b64url(signature),
            },
            "clientExtensionResults": {},
        }

    def attestation(self, options: dict) -> dict:
        """A registration response with "none" attestation, as most keys send it."""
        origin = settings.OTP_WEBAUTHN_ALLOWED_ORIGINS[0]
        client_data = json.dumps(
            {"type": "webauthn.create", "challenge": options["challenge"], "origin": origin}
        ).encode()
        authenticator_data = (
            hashlib.sha256(settings.OTP_WEBAUTHN_RP_ID.encode()).digest()
            + bytes([0x41])  # user present, attested credential data included
            + (0).to_bytes(4, "big")
            + bytes(16)  # AAGUID
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self.cose_public_key()
        )
        attestation_object = cbor2.dumps(
            {"fmt": "none", "attStmt": {}, "authData": authenticator_data}
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
        }

    def register(self, client):
        """Runs the registration ceremony of the account security page."""
        begin = client.post(reverse("security_key_begin"), content_type="application/json")
        assert begin.status_code == 200, begin.content
        return client.post(
            reverse("security_key_complete"),
            data=json.dumps(self.attestation(begin.json())),
            content_type="application/json",
        )

    def sign_in(self, client):
        """Runs the ceremony of the login's second step; returns the final response."""
        begin = client.post(reverse("login_key_begin"), content_type="application/json")
        assert begin.status_code == 200, begin.content
        return client.post(
            reverse("login_key_complete"),
            data=json.dumps(self.assertion(begin.json())),
            content_type="application/json",
        )


@pytest.fixture
def totp_device(db):
    def make(user, name="手机"):
        return TOTPDevice.objects.create(user=user, name=name, confirmed=True)

    return make


@pytest.fixture
def backup_codes(db):
    def make(user, codes=("alpha234", "bravo567")):
        device = StaticDevice.objects.create(user=user, name="备用码", confirmed=True)
        for code in codes:
            StaticToken.objects.create(device=device, token=code)
        return device

    return make


@pytest.fixture
def software_key():
    return SoftwareSecurityKey()


def password_step(client, user, password=None, **extra):
    return client.post(
        reverse("login"),
        {"username": user.username, "password": password or user.test_password},
        **extra,
    )


def verified_login(client, user, device):
    """A session that has passed both steps (set the way django_otp.login sets it)."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
