"""TOTP two-factor sign-in over real HTTP: enrolled with the password and a
first code, then login needs a code, and a code that signed in once is
refused when replayed (the window logic itself runs with a controlled clock
in tests/core/test_signin_security.py)."""

from __future__ import annotations

import time

import pyotp

from tests.integration.operators_support import PW, auth, login
from tests.support import Api


async def test_totp_enrol_sign_in_replay_and_remove(api: Api) -> None:
    ((_uid, token, name),) = await api.user(1)
    http = api.http
    assert (await http.get("/v1/auth/2fa", headers=auth(token))).json() == {
        "totp_enabled": False,
        "recovery_codes_left": 0,
    }
    wrong = await http.post(
        "/v1/auth/2fa/totp", json={"password": "nope nope"}, headers=auth(token)
    )
    assert wrong.status_code == 403
    r = await http.post("/v1/auth/2fa/totp", json={"password": PW}, headers=auth(token))
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
    otp = pyotp.TOTP(secret)
    bad = await http.post("/v1/auth/2fa/totp/confirm", json={"code": "12345x"}, headers=auth(token))
    assert bad.status_code == 422 and bad.json()["error"]["path"] == "$.code"
    r = await http.post("/v1/auth/2fa/totp/confirm", json={"code": otp.now()}, headers=auth(token))
    assert r.status_code == 200, r.text
    recovery = r.json()["recovery_codes"]
    assert len(recovery) == 10
    again = await http.post("/v1/auth/2fa/totp", json={"password": PW}, headers=auth(token))
    assert again.status_code == 409

    r = await login(http, name)
    assert r.status_code == 401 and r.json()["error"]["path"] == "$.totp_code"
    # a recovery code signs in once
    r = await login(http, name, recovery_code=recovery[0])
    assert r.status_code == 200
    r = await login(http, name, recovery_code=recovery[0])
    assert r.status_code == 401 and r.json()["error"]["path"] == "$.recovery_code"

    # this window's code, unless it is the one that confirmed enrolment (good
    # once); then the next window's, which is accepted early for clock drift
    code = otp.now()
    r = await login(http, name, totp_code=code)
    if r.status_code != 200:
        assert r.json()["error"]["path"] == "$.totp_code"
        code = otp.at(int(time.time()) + 30)
        r = await login(http, name, totp_code=code)
    assert r.status_code == 200, r.text
    replay = await login(http, name, totp_code=code)
    assert replay.status_code == 401 and replay.json()["error"]["path"] == "$.totp_code"

    status = (await http.get("/v1/auth/2fa", headers=auth(token))).json()
    assert status == {"totp_enabled": True, "recovery_codes_left": 9}
    r = await http.post("/v1/auth/2fa/totp/disable", json={"password": PW}, headers=auth(token))
    assert r.status_code == 204
    assert (await login(http, name)).status_code == 200
