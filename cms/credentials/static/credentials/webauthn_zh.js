// Chinese messages for django-otp-webauthn's script, which looks its texts up
// through a global gettext(); and a page reload once a key has been registered
// so the new key appears in the list.
(function () {
  "use strict";
  var zh = {
    "An error occurred during registration.": "登记时出错。",
    "An error occurred during verification.": "验证时出错。",
    "Finishing registration...": "正在完成登记…",
    "Finishing verification...": "正在完成验证…",
    "Register a Passkey": "登记安全密钥",
    "Registering...": "正在登记…",
    "Registration aborted or not allowed.": "登记已取消或未获允许。",
    "Registration aborted.": "登记已取消。",
    "Registration failed. A server error occurred.": "登记失败：服务器出错。",
    "Registration failed. A technical problem occurred that prevents you from registering a Passkey for this site.": "登记失败：技术原因导致无法为本网站登记安全密钥。",
    "Registration failed. An unknown error occurred.": "登记失败：发生未知错误。",
    "Registration failed. The server was unable to verify this passkey.": "登记失败：服务器无法核验这把安全密钥。",
    "Registration failed. Unable to fetch registration options from server.": "登记失败：无法从服务器取得登记参数。",
    "Registration failed. You most likely already have a Passkey registered for this site.": "登记失败：这把安全密钥很可能已经登记过（或已被吊销）。",
    "Registration successful!": "登记成功！",
    "Verification aborted.": "验证已取消。",
    "Verification canceled or not allowed.": "验证已取消或未获允许。",
    "Verification failed. A server error occurred.": "验证失败：服务器出错。",
    "Verification failed. An unknown error occurred.": "验证失败：发生未知错误。",
    "Verification failed. An unknown server error occurred.": "验证失败：服务器发生未知错误。",
    "Verification failed. Could not retrieve parameters from the server.": "验证失败：无法从服务器取得验证参数（可能因登录失败次数过多被暂停，请稍后再试）。",
    "Verification successful!": "验证成功！",
    "Verify with Passkey": "使用安全密钥验证",
    "Verifying...": "正在验证…"
  };
  window.gettext = function (text) {
    return Object.prototype.hasOwnProperty.call(zh, text) ? zh[text] : text;
  };
  document.addEventListener("otp_webauthn.register_complete", function () {
    window.setTimeout(function () { window.location.reload(); }, 800);
  });
})();
